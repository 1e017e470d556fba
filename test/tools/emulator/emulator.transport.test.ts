/**
 * The emulator's transport behaviour: batch, the leaky-bucket rate limit and injected faults.
 */
import {
	BATCH_MAX_COMMANDS,
	FIRST_MESSAGE_ID,
	startEmulator,
	type Emulator,
} from '../../../tools/emulator';
import { arr, obj, postJson, request, SEND, VALID } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const TRICKY = 'Hi & bye = 1 + 1 %20 #x [b]bold[/b]\n😀 Привет';

/** A batch command: method + `?` + URL-encoded PHP query, the way the SDKs build it. */
const command = (method: string, params: Record<string, string | number> = {}): string => {
	const query = Object.entries(params)
		.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
		.join('&');
	return query === '' ? method : `${method}?${query}`;
};

describe('batch', () => {
	const emu = useEmulator();

	const batch = (body: unknown) => postJson(`${emu.webhookUrl}batch`, body);

	it('decodes tricky text byte for byte from a form-encoded cmd[] (double encoding)', async () => {
		const form = new URLSearchParams({
			halt: '0',
			'cmd[send]': command(SEND, { ...VALID, MESSAGE: TRICKY }),
		});
		const res = await request(`${emu.webhookUrl}batch.json`, { body: { form } });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({
			result: {
				result: { send: FIRST_MESSAGE_ID },
				result_error: [],
				result_total: [],
				result_next: [],
			},
		});
		expect(obj(obj(obj(res.body).result).result_time)).toHaveProperty('send');
		expect(obj(res.body)).toHaveProperty('time');
		expect(emu.messages).toEqual([
			expect.objectContaining({ message: TRICKY, viaBatch: true, authKind: 'webhook' }),
		]);
	});

	it('accepts cmd as an object in a JSON body', async () => {
		const res = await batch({ halt: 0, cmd: { a: command(SEND, { ...VALID, MESSAGE: TRICKY }) } });
		expect(obj(obj(obj(res.body).result).result)).toEqual({ a: FIRST_MESSAGE_ID });
		expect(emu.messages[0]?.message).toBe(TRICKY);
	});

	it('a cmd list gives list-shaped results, as PHP encodes 0..n-1 keys', async () => {
		const res = await batch({
			cmd: [
				'user.current',
				command('imopenlines.crm.chat.getLastId', { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: 1196 }),
			],
		});
		const result = arr(obj(obj(res.body).result).result);
		expect(result[1]).toBe(1400);
		expect(obj(result[0]).ID).toBe('1');
	});

	it('halt: 0 runs everything and reports per-command errors; HTTP stays 200', async () => {
		const res = await batch({
			halt: 0,
			cmd: {
				bad: command(SEND, { ...VALID, CHAT_ID: 1342 }),
				missing: command(SEND, { CRM_ENTITY_TYPE: 'lead' }),
				good: command(SEND, VALID),
				unknown: 'no.such.method',
				nested: command('batch', { 'cmd[x]': 'user.current' }),
				users: command('user.search', { 'FILTER[FIND]': 'an' }),
			},
		});
		expect(res.status).toBe(200);
		const inner = obj(obj(res.body).result);
		expect(inner.result).toEqual({ good: FIRST_MESSAGE_ID, users: expect.any(Array) });
		expect(inner.result_error).toEqual({
			bad: {
				error: 'CHAT_NOT_IN_CRM',
				error_description: 'Chat does not belong to the CRM entity being checked',
			},
			missing: {
				error: 'ERROR_ARGUMENT',
				error_description: "Argument 'CRM_ENTITY' is null or empty",
				argument: 'CRM_ENTITY',
			},
			unknown: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' },
			nested: {
				error: 'ERROR_BATCH_METHOD_NOT_ALLOWED',
				error_description: 'Method is not allowed for batch usage',
			},
		});
		expect(inner.result_total).toEqual({ users: 3 });
		expect(inner.result_next).toEqual([]);
		expect(Object.keys(obj(inner.result_time))).toEqual(['good', 'users']);
		expect(emu.messages).toHaveLength(1);
	});

	it('halt: 1 stops at the first error', async () => {
		const res = await batch({
			halt: 1,
			cmd: {
				first: command(SEND, VALID),
				broken: command(SEND, { ...VALID, USER_ID: 31 }),
				never: command(SEND, VALID),
			},
		});
		const inner = obj(obj(res.body).result);
		expect(inner.result).toEqual({ first: FIRST_MESSAGE_ID });
		expect(Object.keys(obj(inner.result_error))).toEqual(['broken']);
		expect(emu.messages).toHaveLength(1);
	});

	it('sub-commands use the caller scopes', async () => {
		const res = await postJson(`${emu.limitedWebhookUrl}batch`, {
			cmd: { send: command(SEND, VALID), me: 'user.current' },
		});
		const inner = obj(obj(res.body).result);
		expect(obj(inner.result_error).send).toMatchObject({ error: 'insufficient_scope' });
		expect(obj(inner.result)).toHaveProperty('me');
	});

	it(`runs the first ${BATCH_MAX_COMMANDS} commands; each one after them fails with ERROR_BATCH_LENGTH_EXCEEDED, HTTP 200`, async () => {
		const cmds = (n: number) =>
			Object.fromEntries(
				Array.from({ length: n }, (_, i) => [
					`c${i}`,
					command(SEND, { ...VALID, MESSAGE: `#${i}` }),
				]),
			);
		const ok = await batch({ cmd: cmds(BATCH_MAX_COMMANDS) });
		expect(Object.keys(obj(obj(obj(ok.body).result).result))).toHaveLength(BATCH_MAX_COMMANDS);
		emu.reset();
		const tooMany = await batch({ cmd: cmds(BATCH_MAX_COMMANDS + 2) });
		expect(tooMany.status).toBe(200);
		const inner = obj(obj(tooMany.body).result);
		expect(Object.keys(obj(inner.result))).toHaveLength(BATCH_MAX_COMMANDS);
		const lengthExceeded = {
			error: 'ERROR_BATCH_LENGTH_EXCEEDED',
			error_description: 'Max batch length exceeded',
		};
		expect(inner.result_error).toEqual({ c50: lengthExceeded, c51: lengthExceeded });
		expect(emu.messages).toHaveLength(BATCH_MAX_COMMANDS);
	});

	it('no commands: every section is []', async () => {
		const res = await batch({});
		expect(obj(res.body).result).toEqual({
			result: [],
			result_error: [],
			result_total: [],
			result_next: [],
			result_time: [],
		});
	});
});

describe('rate limit (leaky bucket, injectable clock)', () => {
	let clock = 1_700_000_000_000;
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator({ burstLimit: 3, requestsPerSecond: 1, now: () => clock });
	});
	afterAll(async () => {
		await emu.close();
	});
	beforeEach(() => {
		emu.reset();
		clock += 60_000;
	});

	const me = () => request(`${emu.webhookUrl}user.current`);

	it('admits the burst, then answers 503 QUERY_LIMIT_EXCEEDED without processing', async () => {
		for (let i = 0; i < 3; i++)
			expect((await postJson(`${emu.webhookUrl}${SEND}`, VALID)).status).toBe(200);
		const rejected = await postJson(`${emu.webhookUrl}${SEND}`, VALID);
		expect(rejected.status).toBe(503);
		expect(rejected.body).toEqual({
			error: 'QUERY_LIMIT_EXCEEDED',
			error_description: 'Too many requests',
		});
		expect(emu.messages).toHaveLength(3);
		expect(emu.state().rejected503).toBe(1);
	});

	it('drains requestsPerSecond as the clock advances', async () => {
		for (let i = 0; i < 3; i++) await me();
		expect((await me()).status).toBe(503);
		clock += 999;
		expect((await me()).status).toBe(503);
		clock += 1;
		expect((await me()).status).toBe(200);
		expect((await me()).status).toBe(503);
		clock += 2_000;
		expect((await me()).status).toBe(200);
		expect((await me()).status).toBe(200);
		expect((await me()).status).toBe(503);
		expect(emu.state().rejected503).toBe(4);
	});

	it('is shared by webhooks and OAuth, and auth failures count too', async () => {
		const tokens = emu.issueOAuthTokens();
		await me();
		await request(`${emu.baseUrl}/rest/user.current`, {
			headers: { authorization: `Bearer ${tokens.access_token}` },
		});
		await request(`${emu.baseUrl}/rest/1/wrong/user.current`);
		const res = await request(`${emu.limitedWebhookUrl}user.current`);
		expect(res.status).toBe(503);
	});

	it('a batch of many commands is one request', async () => {
		emu.setBudget({ burstLimit: 2 });
		const cmd = Object.fromEntries(
			Array.from({ length: 40 }, (_, i) => [
				`m${i}`,
				command(SEND, { ...VALID, MESSAGE: `#${i}` }),
			]),
		);
		expect((await postJson(`${emu.webhookUrl}batch`, { cmd })).status).toBe(200);
		expect(emu.messages).toHaveLength(40);
		expect((await me()).status).toBe(200);
		expect((await me()).status).toBe(503);
	});

	it('the OAuth endpoints and the control API are not limited', async () => {
		emu.setBudget({ burstLimit: 1, requestsPerSecond: 0.001 });
		await me();
		expect((await me()).status).toBe(503);
		const authorize = await request(`${emu.authorizeUrl}?client_id=nobody`);
		expect(authorize.status).toBe(400);
		for (let i = 0; i < 5; i++)
			expect((await request(`${emu.baseUrl}/_emulator/state`)).status).toBe(200);
	});

	it('setBudget empties the bucket and applies new limits; state shows them', async () => {
		for (let i = 0; i < 3; i++) await me();
		emu.setBudget({ burstLimit: 5, requestsPerSecond: 2 });
		for (let i = 0; i < 5; i++) expect((await me()).status).toBe(200);
		expect((await me()).status).toBe(503);
		expect(emu.state().budget).toEqual({ burstLimit: 5, requestsPerSecond: 2, level: 5 });
		clock += 500;
		expect(emu.state().budget.level).toBe(4);
	});
});

describe('injected faults', () => {
	const emu = useEmulator();

	const send = () => postJson(`${emu.webhookUrl}${SEND}`, VALID);

	it('status: JSON error body, INTERNAL_SERVER_ERROR by default; each fault is used once, in order', async () => {
		emu.injectFaults([
			{ kind: 'status', status: 500 },
			{ kind: 'status', status: 401, error: 'OVERLOAD_LIMIT' },
			{ kind: 'status', status: 500, error: 'PORTAL_DELETED', errorDescription: 'Gone' },
		]);
		const a = await send();
		const b = await send();
		const c = await send();
		const d = await send();
		expect([a.status, b.status, c.status, d.status]).toEqual([500, 401, 500, 200]);
		expect(a.body).toEqual({
			error: 'INTERNAL_SERVER_ERROR',
			error_description: 'Internal server error',
		});
		expect(b.body).toEqual({
			error: 'OVERLOAD_LIMIT',
			error_description: 'REST API is blocked due to overload.',
		});
		expect(c.body).toEqual({ error: 'PORTAL_DELETED', error_description: 'Gone' });
		expect(emu.messages).toHaveLength(1);
		expect(emu.requests.map((r) => r.fault)).toEqual(['status', 'status', 'status', undefined]);
	});

	it('html: a non-JSON proxy page', async () => {
		emu.injectFaults([{ kind: 'html', status: 502 }]);
		const res = await send();
		expect(res.status).toBe(502);
		expect(res.headers.get('content-type')).toMatch(/^text\/html/);
		expect(res.body).toBeUndefined();
		expect(res.text).toContain('502 Bad Gateway');
		expect(emu.messages).toHaveLength(0);
	});

	it('errorIn200: HTTP 200 carrying an error key', async () => {
		emu.injectFaults([
			{
				kind: 'errorIn200',
				error: 'ERROR_UNEXPECTED_ANSWER',
				errorDescription: 'Server returned an unexpected response',
			},
		]);
		const res = await send();
		expect(res.status).toBe(200);
		expect(res.body).toEqual({
			error: 'ERROR_UNEXPECTED_ANSWER',
			error_description: 'Server returned an unexpected response',
		});
		expect(emu.messages).toHaveLength(0);
	});

	it('a method filter leaves other methods alone', async () => {
		emu.injectFaults([{ kind: 'status', status: 500 }], { method: SEND });
		expect((await request(`${emu.webhookUrl}user.current`)).status).toBe(200);
		expect((await send()).status).toBe(500);
		expect((await send()).status).toBe(200);
	});

	it('dropBeforeProcessing: the connection dies and nothing is sent', async () => {
		emu.injectFaults([{ kind: 'dropBeforeProcessing' }]);
		await expect(send()).rejects.toThrow();
		expect(emu.messages).toHaveLength(0);
		expect(emu.requests[0]).toMatchObject({ status: null, fault: 'dropBeforeProcessing' });
		expect((await send()).status).toBe(200);
	});

	it('dropAfterProcessing: the message IS posted but no answer arrives (a retry would duplicate it)', async () => {
		emu.injectFaults([{ kind: 'dropAfterProcessing' }]);
		await expect(send()).rejects.toThrow();
		expect(emu.messages).toHaveLength(1);
		expect(emu.requests[0]).toMatchObject({ status: null, fault: 'dropAfterProcessing' });
		await send();
		expect(emu.messages.map((m) => m.message)).toEqual(['Hello', 'Hello']);
	});

	it('delay: processed at once, answered after ms', async () => {
		emu.injectFaults([{ kind: 'delay', ms: 300 }]);
		const started = Date.now();
		const res = await send();
		expect(Date.now() - started).toBeGreaterThanOrEqual(280);
		expect(res.status).toBe(200);
		expect(emu.messages).toHaveLength(1);
	});

	it('operationTimeLimit: 429 now, and the method envelope carries operating_reset_at', async () => {
		const resetAt = Math.floor(Date.now() / 1000) + 120;
		emu.injectFaults([{ kind: 'operationTimeLimit', resetAt }], { method: SEND });
		const limited = await send();
		expect(limited.status).toBe(429);
		expect(limited.body).toEqual({
			error: 'OPERATION_TIME_LIMIT',
			error_description: 'Method is blocked due to operation time limit.',
		});
		const next = await send();
		expect(obj(obj(next.body).time).operating_reset_at).toBe(resetAt);
		const other = await request(`${emu.webhookUrl}user.current`);
		expect(obj(obj(other.body).time).operating_reset_at).not.toBe(resetAt);
	});

	it('a faulted call does not use the rate-limit budget', async () => {
		emu.setBudget({ burstLimit: 1, requestsPerSecond: 0.001 });
		emu.injectFaults([{ kind: 'status', status: 500 }]);
		expect((await send()).status).toBe(500);
		expect((await send()).status).toBe(200);
		expect((await send()).status).toBe(503);
	});

	it('batch calls match the "batch" filter', async () => {
		emu.injectFaults([{ kind: 'status', status: 500 }], { method: 'batch' });
		expect((await send()).status).toBe(200);
		expect(
			(await postJson(`${emu.webhookUrl}batch`, { cmd: { a: command(SEND, VALID) } })).status,
		).toBe(500);
		expect(emu.messages).toHaveLength(1);
	});

	it('reset() drops pending faults', async () => {
		emu.injectFaults([{ kind: 'status', status: 500 }]);
		emu.reset();
		expect((await send()).status).toBe(200);
	});
});
