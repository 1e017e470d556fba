import type { IHttpRequestOptions, INodeProperties } from 'n8n-workflow';

import { Bitrix24WebhookApi } from '../../credentials/Bitrix24WebhookApi.credentials';
import { Bitrix24Failure } from '../../nodes/Bitrix24OpenChannels/shared/errors';
import { startEmulator, WEBHOOK_CODE, LIMITED_WEBHOOK_CODE, type Emulator } from '../emulator/index.cjs';

const credential = new Bitrix24WebhookApi();

function property(name: string): INodeProperties {
	const found = credential.properties.find((p) => p.name === name);
	if (!found) throw new Error(`The credential has no property ${name}`);
	return found;
}

/** A copy of the credential's test request, as the request options n8n authenticates. */
function testRequest(): IHttpRequestOptions {
	const { method, url } = credential.test.request;
	if (typeof url !== 'string') throw new Error('The credential test request has no URL');
	return { method, url };
}

/** Does what n8n does for "Test credential": authenticate the test request, then send it. */
async function runCredentialTest(webhookUrl: string): Promise<{ status: number; body: Record<string, unknown> }> {
	const options = await credential.authenticate({ webhookUrl }, testRequest());
	const url = new URL(options.url, `${options.baseURL}/`);
	const response = await fetch(url, { method: options.method ?? 'GET' });
	return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Bitrix24WebhookApi credential', () => {
	describe('properties', () => {
		it('is named and labelled as n8n shows it', () => {
			expect(credential.name).toBe('bitrix24WebhookApi');
			expect(credential.displayName).toBe('Bitrix24 Webhook API');
			expect(credential.documentationUrl).toMatch(/^https:\/\//);
		});

		it('stores the webhook URL as a required password field', () => {
			const webhookUrl = property('webhookUrl');
			expect(webhookUrl.type).toBe('string');
			expect(webhookUrl.typeOptions?.password).toBe(true);
			expect(webhookUrl.required).toBe(true);
			expect(webhookUrl.default).toBe('');
			expect(webhookUrl.description).toMatch(/imopenlines/);
		});

		it('has a placeholder the credential accepts', async () => {
			const placeholder = String(property('webhookUrl').placeholder);
			const options = await credential.authenticate({ webhookUrl: placeholder }, { url: 'profile.json' });
			expect(options.baseURL).toBe('https://yourcompany.bitrix24.com/rest/1/abc123xyz');
		});

		it('has the request budget of a standard plan by default, naming the Enterprise one', () => {
			const requestsPerSecond = property('requestsPerSecond');
			expect(requestsPerSecond.type).toBe('number');
			expect(requestsPerSecond.default).toBe(2);
			expect(requestsPerSecond.description).toContain('5');

			const burstLimit = property('burstLimit');
			expect(burstLimit.type).toBe('number');
			expect(burstLimit.default).toBe(50);
			expect(burstLimit.description).toContain('250');
		});

		it('has no property twice', () => {
			const names = credential.properties.map((p) => p.name);
			expect(new Set(names).size).toBe(names.length);
		});

		it('tests the credential with user.current', () => {
			// testRequest() copies only these two.
			expect(credential.test.request).toStrictEqual({ method: 'GET', url: 'user.current.json' });
		});
	});

	describe('authenticate', () => {
		it('only sets the REST base, leaving the rest of the request alone', async () => {
			const request: IHttpRequestOptions = {
				method: 'POST',
				url: 'imopenlines.crm.message.add.json',
				body: { CHAT_ID: 1341 },
				headers: { 'X-Test': '1' },
			};
			const options = await credential.authenticate(
				{ webhookUrl: `https://yourcompany.bitrix24.com/rest/1/${WEBHOOK_CODE}/profile.json` },
				request,
			);
			expect(options).toStrictEqual({
				...request,
				baseURL: `https://yourcompany.bitrix24.com/rest/1/${WEBHOOK_CODE}`,
			});
			expect(request).not.toHaveProperty('baseURL');
		});

		it.each([
			['not a URL', `yourcompany/rest/1/${WEBHOOK_CODE}`],
			['http on a public host', `http://yourcompany.bitrix24.com/rest/1/${WEBHOOK_CODE}/`],
			['a query string', `https://yourcompany.bitrix24.com/rest/1/${WEBHOOK_CODE}/?x=1`],
			['a wrong path', `https://yourcompany.bitrix24.com/api/1/${WEBHOOK_CODE}/`],
		])('rejects %s with INVALID_WEBHOOK_URL, keeping the code secret', async (_label, webhookUrl) => {
			const thrown: unknown = await credential.authenticate({ webhookUrl }, testRequest()).then(
				() => undefined,
				(error: unknown) => error,
			);
			expect(thrown).toBeInstanceOf(Bitrix24Failure);
			const failure = thrown as Bitrix24Failure;
			expect(failure.code).toBe('INVALID_WEBHOOK_URL');
			expect(failure.message).not.toContain(WEBHOOK_CODE);
			expect(failure.description).not.toContain(WEBHOOK_CODE);
		});

		it('rejects a missing webhook URL', async () => {
			await expect(credential.authenticate({}, testRequest())).rejects.toMatchObject({
				code: 'INVALID_WEBHOOK_URL',
			});
		});
	});

	describe('credential test against the Bitrix24 emulator', () => {
		let emulator: Emulator;

		beforeAll(async () => {
			emulator = await startEmulator();
		});

		afterAll(async () => {
			await emulator.close();
		});

		it('succeeds with the webhook URL as Bitrix24 shows it', async () => {
			const { status, body } = await runCredentialTest(emulator.webhookUrl);
			expect(status).toBe(200);
			expect((body.result as Record<string, unknown>).ID).toBe('1');
			const request = emulator.requests.at(-1);
			expect(request?.restMethod).toBe('user.current');
			expect(request?.authKind).toBe('webhook');
			expect(request?.path).toBe(`/rest/1/${WEBHOOK_CODE}/user.current.json`);
		});

		it('succeeds with a webhook URL copied with a method name after the code', async () => {
			const { status, body } = await runCredentialTest(`${emulator.webhookUrl}profile.json`);
			expect(status).toBe(200);
			expect((body.result as Record<string, unknown>).ID).toBe('1');
		});

		it('succeeds for the limited webhook too (user.current is in the basic scope)', async () => {
			const { status } = await runCredentialTest(emulator.limitedWebhookUrl);
			expect(status).toBe(200);
			expect(emulator.limitedWebhookUrl).toContain(LIMITED_WEBHOOK_CODE);
		});

		it('fails with 401 NO_AUTH_FOUND for a wrong code', async () => {
			const { status, body } = await runCredentialTest(`${emulator.baseUrl}/rest/1/wrongcode123/`);
			expect(status).toBe(401);
			expect(body.error).toBe('NO_AUTH_FOUND');
		});

		it("fails with 401 NO_AUTH_FOUND for the right code of another user's id", async () => {
			const { status, body } = await runCredentialTest(`${emulator.baseUrl}/rest/27/${WEBHOOK_CODE}/`);
			expect(status).toBe(401);
			expect(body.error).toBe('NO_AUTH_FOUND');
		});
	});
});
