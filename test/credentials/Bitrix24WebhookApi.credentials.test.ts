import type { IHttpRequestOptions, INodeProperties } from 'n8n-workflow';

import { Bitrix24WebhookApi } from '../../credentials/Bitrix24WebhookApi.credentials';
import { budgetFields } from '../../nodes/shared/budgetFields';
import { WEBHOOK_CODE, LIMITED_WEBHOOK_CODE } from '../../tools/emulator';
import { testCredential } from '../../tools/harness/credentialTest';
import { useEmulator } from '../../tools/harness/useEmulator';

const credential = new Bitrix24WebhookApi();

function property(name: string): INodeProperties {
	const found = credential.properties.find((p) => p.name === name);
	if (!found) throw new Error(`The credential has no property ${name}`);
	return found;
}

const testRequest = (): IHttpRequestOptions => ({ method: 'GET', url: 'user.current.json' });

/** What the editor's "Test" button answers, run the way n8n runs it (see tools/harness/credentialTest.ts). */
const runCredentialTest = async (webhookUrl: string) =>
	await testCredential('bitrix24WebhookApi', credential.test, { webhookUrl });

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
			const options = await credential.authenticate(
				{ webhookUrl: placeholder },
				{ url: 'profile.json' },
			);
			expect(options.baseURL).toBe('https://yourcompany.bitrix24.com/rest/1/abc123xyz');
		});

		it("carries the portal's request budget (see budgetFields.test.ts)", () => {
			expect(credential.properties).toEqual(expect.arrayContaining(budgetFields));
		});

		it('has no property twice', () => {
			const names = credential.properties.map((p) => p.name);
			expect(new Set(names).size).toBe(names.length);
		});

		it('tests the credential with user.current and an Open Channels call, in one batch', () => {
			expect(credential.test.request).toMatchObject({
				method: 'POST',
				url: 'batch.json',
				body: { halt: 0, cmd: { user: 'user.current', openChannels: 'imopenlines.revision.get' } },
			});
		});

		it("takes every status as an answer, so its rules can read Bitrix24's code from a 401 (n8n's responseCode rules see the status alone)", () => {
			expect(credential.test.request.ignoreHttpStatusErrors).toBe(true);
			expect(credential.test.rules?.every((rule) => rule.type === 'responseSuccessBody')).toBe(
				true,
			);
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
		])(
			'rejects %s with a readable INVALID_WEBHOOK_URL error, keeping the code secret',
			async (_label, webhookUrl) => {
				const thrown: unknown = await credential.authenticate({ webhookUrl }, testRequest()).then(
					() => undefined,
					(error: unknown) => error,
				);
				// A plain error without a `code`: n8n's credential test shows the message of such errors.
				expect(thrown).toBeInstanceOf(Error);
				expect(thrown).not.toHaveProperty('code');
				const { message } = thrown as Error;
				expect(message).toMatch(/^The Webhook URL .+ \(INVALID_WEBHOOK_URL\)$/);
				expect(message).not.toContain(WEBHOOK_CODE);
			},
		);

		describe('the Bot Token', () => {
			const botToken = 'n8n-supportbot-7f3a9c2e51b04d6b';
			const withToken = async (url: string, body: object) =>
				(
					await credential.authenticate(
						{ webhookUrl: `https://yourcompany.bitrix24.com/rest/1/${WEBHOOK_CODE}/`, botToken },
						{ method: 'POST', url, body } as IHttpRequestOptions,
					)
				).body;

			it.each([
				['imbot.v2.Chat.Message.send.json', { botId: 39 }, { botId: 39, botToken }],
				[
					'imopenlines.bot.session.transfer.json',
					{ CHAT_ID: 1 },
					{ CHAT_ID: 1, CLIENT_ID: botToken },
				],
				[
					'imopenlines.bot.session.finish.json',
					{ CHAT_ID: 1 },
					{ CHAT_ID: 1, CLIENT_ID: botToken },
				],
				['imopenlines.bot.session.operator.json', { CHAT_ID: 1 }, { CHAT_ID: 1 }],
				['imopenlines.crm.message.add.json', { CHAT_ID: 1 }, { CHAT_ID: 1 }],
			])(
				'%s: only the bot calls get it, as the parameter Bitrix24 reads',
				async (url, body, sent) => {
					expect(await withToken(url, body)).toStrictEqual(sent);
				},
			);

			it("joins the query of a batch call's bot commands, and only theirs", async () => {
				const body = await withToken('batch.json', {
					halt: 0,
					cmd: {
						a: 'imbot.v2.Chat.Message.send?botId=39',
						b: 'imopenlines.crm.message.add?CHAT_ID=1',
						c: 'imopenlines.bot.session.finish?CHAT_ID=2',
					},
				});
				expect(body).toStrictEqual({
					halt: 0,
					cmd: {
						a: `imbot.v2.Chat.Message.send?botId=39&botToken=${botToken}`,
						b: 'imopenlines.crm.message.add?CHAT_ID=1',
						c: `imopenlines.bot.session.finish?CHAT_ID=2&CLIENT_ID=${botToken}`,
					},
				});
			});
		});

		it('rejects a missing webhook URL', async () => {
			await expect(credential.authenticate({}, testRequest())).rejects.toThrow(
				'The Webhook URL is empty: paste the inbound webhook URL from Bitrix24 (INVALID_WEBHOOK_URL)',
			);
		});
	});

	describe("the editor's credential test, against the Bitrix24 emulator", () => {
		const emulator = useEmulator();

		it('succeeds with the webhook URL as Bitrix24 shows it, calling user.current', async () => {
			expect(await runCredentialTest(emulator.webhookUrl)).toEqual({
				status: 'OK',
				message: 'Connection successful!',
			});
			const [request] = emulator.requests;
			expect(request.path).toBe(`/rest/1/${WEBHOOK_CODE}/batch.json`);
			expect(request.params.cmd).toEqual({
				user: 'user.current',
				openChannels: 'imopenlines.revision.get',
			});
			expect(request.status).toBe(200);
		});

		it('succeeds with a webhook URL copied with a method name after the code', async () => {
			expect((await runCredentialTest(`${emulator.webhookUrl}profile.json`)).status).toBe('OK');
		});

		it('fails readably for a webhook without the imopenlines scope', async () => {
			expect(emulator.limitedWebhookUrl).toContain(LIMITED_WEBHOOK_CODE);
			expect(await runCredentialTest(emulator.limitedWebhookUrl)).toEqual({
				status: 'Error',
				message:
					'The webhook works but lacks the Open Channels (imopenlines) permission: edit it in Bitrix24, tick "Open Channels (imopenlines)" and save.',
			});
		});

		it.each([
			['a wrong code', (emulatorBase: string) => `${emulatorBase}/rest/1/wrongcode123/`],
			[
				"the right code of another user's id",
				(emulatorBase: string) => `${emulatorBase}/rest/27/${WEBHOOK_CODE}/`,
			],
		])('fails readably for %s', async (_label, url) => {
			expect(await runCredentialTest(url(emulator.baseUrl))).toEqual({
				status: 'Error',
				message:
					'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated. Copy the URL again from Developer resources > Other > Inbound webhook.',
			});
		});

		it.each([
			[
				'a webhook deactivated in Bitrix24 (answered as a deleted one)',
				() => (emulator.world.webhooks[0].active = false),
				'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated. Copy the URL again from Developer resources > Other > Inbound webhook.',
			],
			[
				'a portal on a free plan, where the same 401 used to say "wrong code"',
				() => (emulator.world.portal.restAvailable = false),
				"The webhook is right, but the portal's Bitrix24 plan does not include the REST API: webhooks work on commercial plans only (not on a free plan, nor after a subscription or trial ended).",
			],
			[
				'a webhook whose user was deactivated',
				() => (emulator.world.users.find((user) => user.id === 1)!.active = false),
				"Bitrix24 could not sign in the webhook's user, who is probably deactivated: create the webhook as an active user.",
			],
			[
				'a webhook blocked for overload',
				() => (emulator.world.webhooks[0].overloaded = true),
				'Bitrix24 has blocked this webhook for overload: contact Bitrix24 support to lift the block.',
			],
			[
				'a portal that wants https',
				() => (emulator.world.portal.httpsRequired = true),
				'Bitrix24 requires https for webhooks: use the https:// address of the portal.',
			],
			[
				'a closed portal',
				() => (emulator.world.portal.closed = true),
				'The Bitrix24 portal is deleted or its public part is closed.',
			],
			[
				'a proxy error page instead of Bitrix24',
				() => emulator.injectFaults([{ kind: 'html', status: 502 }]),
				'The URL did not answer as a Bitrix24 REST API (no result came back): check the webhook URL, and that the portal is up.',
			],
		] as Array<[string, () => unknown, string]>)(
			'tells %s by the code in the 401 body',
			async (_label, arrange, message) => {
				arrange();
				expect(await runCredentialTest(emulator.webhookUrl)).toEqual({ status: 'Error', message });
			},
		);

		it.each([
			[
				'http to a public host',
				`http://yourcompany.bitrix24.com/rest/1/${WEBHOOK_CODE}/`,
				'uses http:// for the public host yourcompany.bitrix24.com',
			],
			[
				'a URL of the wrong shape',
				`https://yourcompany.bitrix24.com/api/1/${WEBHOOK_CODE}/`,
				'does not have the shape of a Bitrix24 inbound webhook',
			],
		])('fails readably, sending nothing, for %s', async (_label, url, reason) => {
			const result = await runCredentialTest(url);

			expect(result.status).toBe('Error');
			expect(result.message).toContain(reason);
			expect(result.message).toContain('(INVALID_WEBHOOK_URL)');
			expect(result.message).not.toContain(WEBHOOK_CODE);
		});
	});
});
