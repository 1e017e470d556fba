/**
 * OAuth (authorize, token endpoint, bearer/auth-param REST calls), the control API, the CLI helpers
 * and the PHP-style parameter parser.
 */
import { describeEmulator, parseCliArgs } from '../../../tools/emulator/cli';
import {
	MEMBER_ID,
	OAUTH_CLIENT_ID,
	OAUTH_CLIENT_SECRET,
	OAUTH_REDIRECT_URI,
	parseBatchCommand,
	parsePhpQuery,
	startEmulator,
	type Emulator,
} from '../../../tools/emulator';
import { arr, obj, postJson, request, str, SEND, VALID } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const CLIENT = { client_id: OAUTH_CLIENT_ID, client_secret: OAUTH_CLIENT_SECRET };

describe('OAuth', () => {
	let clock = 1_700_000_000_000;
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator({ now: () => clock, accessTokenTtlSeconds: 3600 });
	});
	afterAll(async () => {
		await emu.close();
	});
	beforeEach(() => {
		emu.reset();
		clock += 86_400_000;
	});

	/** Run the authorize redirect and return the code it hands out. */
	async function authorize(extra: Record<string, string> = {}): Promise<URL> {
		const query = new URLSearchParams({
			client_id: OAUTH_CLIENT_ID,
			state: 's-42',
			response_type: 'code',
			...extra,
		});
		const res = await request(`${emu.authorizeUrl}?${query.toString()}`, { redirect: 'manual' });
		expect(res.status).toBe(302);
		return new URL(str(res.headers.get('location')));
	}

	const tokenGet = (params: Record<string, string>) =>
		request(`${emu.tokenUrl}?${new URLSearchParams(params).toString()}`);
	const restAs = (token: string, method = 'user.current') =>
		request(`${emu.baseUrl}/rest/${method}`, { headers: { authorization: `Bearer ${token}` } });

	it('authorize redirects to the registered URI with code, state, domain, member_id, scope, server_domain', async () => {
		const location = await authorize();
		expect(`${location.origin}${location.pathname}`).toBe(OAUTH_REDIRECT_URI);
		expect(Object.fromEntries(location.searchParams)).toEqual({
			code: expect.stringMatching(/^[0-9a-f]{32}$/),
			state: 's-42',
			domain: new URL(emu.baseUrl).host,
			member_id: MEMBER_ID,
			scope: 'imopenlines,user,crm,imbot,im',
			server_domain: 'oauth.bitrix.info',
		});
		const custom = await authorize({ redirect_uri: 'https://n8n.example.com/callback?x=1' });
		expect(custom.host).toBe('n8n.example.com');
		expect(custom.searchParams.get('x')).toBe('1');
	});

	it('authorize rejects an unknown client', async () => {
		const res = await request(`${emu.authorizeUrl}?client_id=local.unknown`, {
			redirect: 'manual',
		});
		expect(res.status).toBe(400);
		expect(obj(res.body).error).toBe('invalid_client');
	});

	it('authorization_code over GET returns the Bitrix24 token document; the code is single use', async () => {
		const code = str((await authorize()).searchParams.get('code'));
		const res = await tokenGet({ grant_type: 'authorization_code', code, ...CLIENT });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({
			access_token: expect.stringMatching(/^[0-9a-f]{32}$/),
			refresh_token: expect.stringMatching(/^[0-9a-f]{32}$/),
			expires_in: 3600,
			expires: Math.floor(clock / 1000) + 3600,
			token_type: 'Bearer',
			scope: 'imopenlines,user,crm,imbot,im',
			domain: 'oauth.bitrix.info',
			server_endpoint: `${emu.baseUrl}/oauth/rest/`,
			client_endpoint: `${emu.baseUrl}/rest/`,
			member_id: MEMBER_ID,
			user_id: 1,
			status: 'L',
		});
		const again = await tokenGet({ grant_type: 'authorization_code', code, ...CLIENT });
		expect(again.status).toBe(400);
		expect(again.body).toEqual({ error: 'invalid_grant' });
	});

	it('codes expire after 30 seconds', async () => {
		const code = str((await authorize()).searchParams.get('code'));
		clock += 30_000;
		expect((await tokenGet({ grant_type: 'authorization_code', code, ...CLIENT })).body).toEqual({
			error: 'invalid_grant',
		});
	});

	it('POST form, POST JSON and HTTP Basic client credentials all work', async () => {
		const form = new URLSearchParams({
			grant_type: 'authorization_code',
			code: str((await authorize()).searchParams.get('code')),
			...CLIENT,
		});
		expect((await request(emu.tokenUrl, { body: { form } })).status).toBe(200);

		const json = {
			grant_type: 'authorization_code',
			code: str((await authorize()).searchParams.get('code')),
			...CLIENT,
		};
		expect((await postJson(emu.tokenUrl, json)).status).toBe(200);

		const basic = Buffer.from(`${OAUTH_CLIENT_ID}:${OAUTH_CLIENT_SECRET}`).toString('base64');
		const viaBasic = new URLSearchParams({
			grant_type: 'authorization_code',
			code: str((await authorize()).searchParams.get('code')),
		});
		const res = await request(emu.tokenUrl.replace(/\/$/, ''), {
			body: { form: viaBasic },
			headers: { authorization: `Basic ${basic}` },
		});
		expect(res.status).toBe(200);
	});

	it('401 invalid_client for a wrong secret or client; 400 for an unknown grant type', async () => {
		const code = str((await authorize()).searchParams.get('code'));
		const wrongSecret = await tokenGet({
			grant_type: 'authorization_code',
			code,
			client_id: OAUTH_CLIENT_ID,
			client_secret: 'nope',
		});
		expect(wrongSecret.status).toBe(401);
		expect(wrongSecret.body).toEqual({ error: 'invalid_client' });
		const noClient = await tokenGet({ grant_type: 'refresh_token', refresh_token: 'x' });
		expect(noClient.status).toBe(401);
		const password = await tokenGet({ grant_type: 'password', ...CLIENT });
		expect(password.status).toBe(400);
		expect(password.body).toEqual({ error: 'unsupported_grant_type' });
	});

	it('refresh_token rotates: the new pair works, the old refresh token is invalid_grant', async () => {
		const first = emu.issueOAuthTokens();
		const refreshed = await tokenGet({
			grant_type: 'refresh_token',
			refresh_token: first.refresh_token,
			...CLIENT,
		});
		expect(refreshed.status).toBe(200);
		const second = obj(refreshed.body);
		expect(second.refresh_token).not.toBe(first.refresh_token);
		expect((await restAs(str(second.access_token))).status).toBe(200);
		const reused = await tokenGet({
			grant_type: 'refresh_token',
			refresh_token: first.refresh_token,
			...CLIENT,
		});
		expect(reused.status).toBe(400);
		expect(reused.body).toEqual({ error: 'invalid_grant' });
		// The token endpoint is not REST: not recorded as a REST method, not rate-limited.
		expect(emu.requests.filter((r) => r.path === '/oauth/token/').map((r) => r.status)).toEqual([
			200, 400,
		]);
	});

	it('REST auth: Bearer header first, then the auth / access_token params', async () => {
		const { access_token: token } = emu.issueOAuthTokens();
		expect((await restAs(token)).body).toMatchObject({ result: { ID: '1' } });
		expect((await request(`${emu.baseUrl}/rest/user.current.json?auth=${token}`)).status).toBe(200);
		expect(
			(await postJson(`${emu.baseUrl}/rest/${SEND}`, { ...VALID, access_token: token })).status,
		).toBe(200);
		expect((await postJson(`${emu.baseUrl}/rest/${SEND}`, { ...VALID, auth: token })).status).toBe(
			200,
		);
		expect(emu.messages.map((m) => m.authKind)).toEqual(['oauth', 'oauth']);
		expect(emu.requests[2]?.authKind).toBe('oauth');

		// A bad header wins over a good param.
		const bad = await request(`${emu.baseUrl}/rest/user.current?auth=${token}`, {
			headers: { authorization: 'Bearer nope' },
		});
		expect(bad.body).toEqual({
			error: 'invalid_token',
			error_description: 'The access token provided is invalid.',
		});
	});

	it('401 NO_AUTH_FOUND without a token, invalid_token for an unknown one', async () => {
		const none = await request(`${emu.baseUrl}/rest/user.current`);
		expect(none.status).toBe(401);
		expect(none.body).toEqual({
			error: 'NO_AUTH_FOUND',
			error_description: 'Wrong authorization data',
		});
		expect((await restAs('0123456789abcdef0123456789abcdef')).status).toBe(401);
	});

	it('401 expired_token after the TTL, after expireAccessTokens(), and for tokens minted expired', async () => {
		const expiredBody = {
			error: 'expired_token',
			error_description: 'The access token provided has expired',
		};
		const ttl = emu.issueOAuthTokens();
		clock += 3_599_000;
		expect((await restAs(ttl.access_token)).status).toBe(200);
		clock += 1_000;
		const late = await restAs(ttl.access_token);
		expect(late.status).toBe(401);
		expect(late.body).toEqual(expiredBody);

		const live = emu.issueOAuthTokens();
		emu.expireAccessTokens();
		expect((await restAs(live.access_token)).body).toEqual(expiredBody);
		expect(emu.issueOAuthTokens().access_token).not.toBe(live.access_token);

		const minted = emu.issueOAuthTokens({ expired: true });
		expect(minted.expires_in).toBe(0);
		expect((await restAs(minted.access_token, SEND)).body).toEqual(expiredBody);

		// The usual recovery: refresh, then retry with the new token.
		const refreshed = obj(
			(
				await tokenGet({
					grant_type: 'refresh_token',
					refresh_token: minted.refresh_token,
					...CLIENT,
				})
			).body,
		);
		expect(
			(
				await postJson(`${emu.baseUrl}/rest/${SEND}`, VALID, {
					authorization: `Bearer ${str(refreshed.access_token)}`,
				})
			).status,
		).toBe(200);
	});
});

describe('control API', () => {
	const emu = useEmulator();

	const control = (path: string, body?: unknown) =>
		body === undefined
			? request(`${emu.baseUrl}/_emulator/${path}`, { method: 'POST' })
			: postJson(`${emu.baseUrl}/_emulator/${path}`, body);
	const send = () => postJson(`${emu.webhookUrl}${SEND}`, VALID);

	it('GET state reports messages, request count, 503s and the budget; control calls are not recorded', async () => {
		await send();
		const state = obj((await request(`${emu.baseUrl}/_emulator/state`)).body);
		expect(state).toMatchObject({
			requestCount: 1,
			rejected503: 0,
			pendingFaults: 0,
			budget: { burstLimit: 50, requestsPerSecond: 2 },
		});
		expect(arr(state.messages)).toEqual([
			expect.objectContaining({ message: 'Hello', chatId: 1341 }),
		]);
		expect(emu.requests).toHaveLength(1);
	});

	it('POST faults queues faults (with a method filter) and rejects malformed ones', async () => {
		const queued = await control('faults', {
			faults: [
				{ kind: 'status', status: 500 },
				{ kind: 'delay', ms: 1 },
			],
			method: SEND,
		});
		expect(queued.body).toEqual({ ok: true, pendingFaults: 2 });
		expect((await request(`${emu.webhookUrl}user.current`)).status).toBe(200);
		expect((await send()).status).toBe(500);
		expect((await send()).status).toBe(200);
		for (const bad of [
			{ faults: [{ kind: 'explode' }] },
			{ faults: [{ kind: 'status' }] },
			{ faults: 'x' },
		]) {
			const res = await control('faults', bad);
			expect(res.status).toBe(400);
			expect(obj(res.body).error).toBe('BAD_REQUEST');
		}
	});

	it('POST budget changes the limits (empty bucket); state counts the 503s', async () => {
		expect((await control('budget', { burstLimit: 1, requestsPerSecond: 0.001 })).status).toBe(200);
		expect((await send()).status).toBe(200);
		expect((await send()).status).toBe(503);
		expect(obj((await request(`${emu.baseUrl}/_emulator/state`)).body).rejected503).toBe(1);
		expect((await control('budget', { burstLimit: -1 })).status).toBe(400);
	});

	it('POST tokens mints usable tokens; POST expire-tokens expires them', async () => {
		const tokens = obj((await control('tokens', {})).body);
		const call = () =>
			request(`${emu.baseUrl}/rest/user.current`, {
				headers: { authorization: `Bearer ${str(tokens.access_token)}` },
			});
		expect((await call()).status).toBe(200);
		await control('expire-tokens');
		expect(obj((await call()).body).error).toBe('expired_token');
		const expired = obj((await control('tokens', { expired: true })).body);
		expect(expired.expires_in).toBe(0);
	});

	it('POST reset clears messages; GET world shows the live world; unknown routes 404', async () => {
		await send();
		await control('reset');
		expect(emu.messages).toHaveLength(0);
		const world = obj((await request(`${emu.baseUrl}/_emulator/world`)).body);
		expect(arr(world.chats)).toHaveLength(12);
		expect((await request(`${emu.baseUrl}/_emulator/nothing`)).status).toBe(404);
	});

	it('unknown paths outside /rest/ answer 404 HTML', async () => {
		const res = await request(`${emu.baseUrl}/somewhere`);
		expect(res.status).toBe(404);
		expect(res.body).toBeUndefined();
	});
});

describe('CLI helpers', () => {
	it('parses --port/--burst/--rate in both spellings and rejects junk', () => {
		expect(parseCliArgs(['--port', '8080', '--burst=10', '--rate', '0.5'])).toEqual({
			port: 8080,
			burstLimit: 10,
			requestsPerSecond: 0.5,
		});
		expect(parseCliArgs([])).toEqual({});
		expect(() => parseCliArgs(['--port'])).toThrow('--port needs a number');
		expect(() => parseCliArgs(['--verbose'])).toThrow('Unknown argument');
	});

	it('describes every URL a tester needs', async () => {
		const emu = await startEmulator();
		try {
			const text = describeEmulator(emu);
			for (const part of [
				emu.baseUrl,
				emu.webhookUrl,
				emu.tokenUrl,
				OAUTH_CLIENT_ID,
				OAUTH_CLIENT_SECRET,
				`${emu.baseUrl}/_emulator/state`,
			]) {
				expect(text).toContain(part);
			}
		} finally {
			await emu.close();
		}
	});
});

describe('parameter parsing', () => {
	it('turns PHP-style keys into nested records', () => {
		expect(
			parsePhpQuery('FILTER[FIND]=x&ids[]=1&ids[]=2&a[b][c]=d&plain=1+2%2B3&weird[=y'),
		).toEqual({
			FILTER: { FIND: 'x' },
			ids: { '0': '1', '1': '2' },
			a: { b: { c: 'd' } },
			plain: '1 2+3',
			// parse_str: an unclosed bracket of a parameter's name becomes `_`.
			weird_: 'y',
		});
	});

	it('splits batch commands into method and decoded params', () => {
		expect(parseBatchCommand('user.search?FILTER%5BFIND%5D=a%26b&start=50')).toEqual({
			method: 'user.search',
			params: { FILTER: { FIND: 'a&b' }, start: '50' },
		});
		expect(parseBatchCommand('user.current')).toEqual({ method: 'user.current', params: {} });
	});
});
