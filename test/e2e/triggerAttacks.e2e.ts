/**
 * End-to-end: attacks on the Open Channels Trigger's webhook in a real n8n 2.41.1 server (`n8n start`), against
 * the emulated portal, one n8n start for all. Prototype keys in the body are refused (400) and leave the n8n main
 * process that handled them clean (seen by a probe loaded into that process with NODE_OPTIONS=--require, see
 * support/prototypeProbe.js); static data holds no secret, and a post built from it starts nothing; an event of
 * more than 1,000 form fields arrives whole; a replayed delivery starts no second execution; a copy of the
 * workflow with the same Bot Code and credential cannot be activated while the first is active.
 */
import * as path from 'node:path';

import {
	CHATS,
	OPEN_LINES,
	SEEDED_BOT_IDS,
	WEBHOOK_CODE,
	type Emulator,
} from '../../tools/emulator';
import { postJson, request } from '../../tools/emulator/testClient';
import { freePort, parseExecutionData, type JsonObject } from '../../tools/n8n/runner';
import { TRIGGER_NODE, triggerToNoOp } from '../../tools/n8n/workflows';
import { openEditorLine, type EditorLine } from './support/editorServer';
import { linesUnderTest, printTimings, progress, timed, waitFor } from './support/harness';

const PROBE_FILE = path.join(__dirname, 'support', 'prototypeProbe.js');
const CREDENTIAL_NAME = 'Bitrix24 webhook (trigger attacks e2e)';
/** The trigger's parameters: instant mode, the default Bot Code, attached to Customer support. */
const PARAMETERS: JsonObject = {
	mode: 'instant',
	events: ['message'],
	attachTo: {
		channels: [{ line: { __rl: true, mode: 'id', value: String(OPEN_LINES.SUPPORT) } }],
	},
};
const DEFAULT_BOT_CODE = 'n8n_open_channels';

let line: EditorLine;
let credentialId = '';
let probePort = 0;
/** Workflow A: active with the default Bot Code from the first test on. */
let workflowA = '';
/** Workflow B: a copy of A, active from the copy test on. */
let workflowB = '';

afterAll(() => printTimings());

interface ProbeAnswer {
	pid: number;
	ownKeys: string[];
	stringOfObject: string;
	inherited: string[];
}

/** What Object.prototype looks like in the n8n main process now. */
async function probe(): Promise<ProbeAnswer> {
	const answer = await request(`http://127.0.0.1:${probePort}/`);
	if (answer.status !== 200) throw new Error(`probe: HTTP ${answer.status} ${answer.text}`);
	return answer.body as ProbeAnswer;
}

/** Saves a workflow "trigger -> No Operation"; returns its ID and version. */
async function saveWorkflow(name: string): Promise<{ id: string; versionId: string }> {
	return await line.client.rest<{ id: string; versionId: string }>(
		'POST',
		'/rest/workflows',
		triggerToNoOp({
			name,
			parameters: PARAMETERS,
			credential: { id: credentialId, name: CREDENTIAL_NAME },
		}),
	);
}

/** n8n's answer to activating (publishing) a saved workflow. */
async function activate(workflowId: string): Promise<{ status: number; text: string }> {
	const saved = await line.client.rest<{ versionId: string }>(
		'GET',
		`/rest/workflows/${workflowId}`,
	);
	return await line.client.request('POST', `/rest/workflows/${workflowId}/activate`, {
		body: { versionId: saved.versionId },
	});
}

interface PublicationStatus {
	status: string;
	triggers: Array<{ nodeId: string; status: string; errorMessage: string | null }>;
}

/** n8n 2.x's publication status of a workflow (the editor's "Published" / "failed to publish"). */
async function publicationStatus(workflowId: string): Promise<PublicationStatus> {
	return await line.client.rest<PublicationStatus>(
		'GET',
		`/rest/workflows/${workflowId}/publication-status`,
	);
}

/** The publication status once n8n reports the workflow's publication failed (or partly failed). */
async function failedPublication(workflowId: string): Promise<PublicationStatus> {
	return await waitFor(
		`the publication of ${workflowId} to fail`,
		async () => {
			const status = await publicationStatus(workflowId);
			return ['failed', 'partial'].includes(status.status) ? status : undefined;
		},
		60_000,
	);
}

/** The trigger's items per execution of the workflow (any status), oldest first. */
async function executions(
	workflowId: string,
): Promise<Array<{ status: string; items: JsonObject[] }>> {
	const list = await line.client.rest<{ results: Array<{ id: string; status: string }> }>(
		'GET',
		`/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
	);
	const found: Array<{ status: string; items: JsonObject[] }> = [];
	for (const { id, status } of [...list.results].reverse()) {
		const execution = await line.client.rest<{ data: string; status: string }>(
			'GET',
			`/rest/executions/${id}`,
		);
		const data = parseExecutionData(line.installed, execution.data);
		const items = data.resultData.runData[TRIGGER_NODE]?.[0]?.data?.main?.[0] ?? [];
		found.push({ status, items: items.map((item) => item.json) });
	}
	return found;
}

/** Waits until the workflow has `count` executions, then a little longer: no more than that. */
async function exactlyExecutions(workflowId: string, count: number) {
	await waitFor(`${count} execution(s) of ${workflowId}`, async () =>
		(await executions(workflowId)).length >= count ? true : undefined,
	);
	await new Promise((resolve) => setTimeout(resolve, 2_000));
	const found = await executions(workflowId);
	expect(found).toHaveLength(count);
	return found;
}

/** The bots registered so far (the portal's seeded bots aside). */
const bots = (emulator: Emulator) =>
	emulator.world.imbot.registered.filter((b) => !SEEDED_BOT_IDS.includes(b.id));

const theBot = () => {
	const found = bots(line.emulator).filter((b) => b.code === DEFAULT_BOT_CODE);
	expect(found).toHaveLength(1);
	return found[0]!;
};

async function customerWrites(chatId: number, text: string, attach?: JsonObject): Promise<void> {
	line.emulator.bots.customerWrites(chatId, text, attach as never);
	await line.emulator.bots.settled();
}

/** An operator writes into the chat (imopenlines.crm.message.add): the bot hears it, the trigger skips it. */
async function operatorWrites(chatId: number, text: string): Promise<void> {
	const answer = await postJson(`${line.emulator.webhookUrl}imopenlines.crm.message.add`, {
		CRM_ENTITY_TYPE: 'lead',
		CRM_ENTITY: 1195,
		USER_ID: 27,
		CHAT_ID: chatId,
		MESSAGE: text,
	});
	if (answer.status !== 200) throw new Error(`operator message: HTTP ${answer.status}`);
	await line.emulator.bots.settled();
}

async function staticDataOf(workflowId: string): Promise<JsonObject> {
	const workflow = await line.client.rest<{ staticData?: unknown }>(
		'GET',
		`/rest/workflows/${workflowId}`,
	);
	const data = workflow.staticData;
	if (typeof data === 'string') return JSON.parse(data) as JsonObject;
	return (data ?? {}) as JsonObject;
}

/** The trigger node's part of static data (n8n keys it `node:<name>`). */
function nodeStateOf(staticData: JsonObject): JsonObject {
	return (staticData[`node:${TRIGGER_NODE}`] ?? {}) as JsonObject;
}

const lines = linesUnderTest().filter((name) => name === '2.x');

describe.each(lines)('Attacks on the Open Channels Trigger in a real n8n %s server', (lineName) => {
	beforeAll(async () => {
		probePort = await freePort();
		const inherited = process.env.NODE_OPTIONS ?? '';
		line = await timed(
			`${lineName}: start n8n server (with the prototype probe) and set up the owner`,
			async () =>
				await openEditorLine(lineName, {
					env: {
						NODE_OPTIONS: `${inherited} --require ${JSON.stringify(PROBE_FILE)}`.trim(),
						E2E_PROTOTYPE_PROBE_PORT: String(probePort),
					},
				}),
		);
		const created = await line.client.rest<{ id: string }>('POST', '/rest/credentials', {
			name: CREDENTIAL_NAME,
			type: 'bitrix24WebhookApi',
			data: { webhookUrl: line.emulator.webhookUrl },
		});
		credentialId = created.id;
		const { id } = await saveWorkflow('Open channel bot A');
		workflowA = id;
		const activated = await activate(workflowA);
		expect(activated.status).toBe(200);
		const { emulator } = line;
		const bot = await waitFor('the bot registered at activation', async () =>
			bots(emulator).find((b) => b.code === DEFAULT_BOT_CODE && b.eventMode === 'webhook'),
		);
		await waitFor('the bot attached to Customer support', async () =>
			emulator.world.imbot.lines[0]?.welcomeBotId === bot.id ? true : undefined,
		);
	});

	afterAll(async () => {
		await line?.close();
	});

	it('prototype keys: 400, the n8n main process untouched, n8n and the trigger keep working', async () => {
		const before = await probe();
		expect(before.stringOfObject).toBe('[object Object]');
		expect(before.inherited).toEqual([]);
		const bot = theBot();
		expect(bot.webhookUrl).toContain('?token=');
		const forms = [
			'__proto__[x]=yes&event=X',
			'__proto__[toString]=1',
			'constructor[prototype][y]=1',
			'event=ONIMBOTV2MESSAGEADD&data[__proto__][x]=yes',
		];
		for (const form of forms) {
			const answer = await request(bot.webhookUrl, { body: { form } });
			expect([form, answer.status]).toEqual([form, 400]);
		}
		const json = await request(bot.webhookUrl, {
			body: { raw: '{"__proto__":{"x":"yes"},"event":"X"}', contentType: 'application/json' },
		});
		expect(json.status).toBe(400);

		const after = await probe();
		expect(after.pid).toBe(before.pid);
		expect(after.ownKeys).toEqual(before.ownKeys);
		expect(after.stringOfObject).toBe('[object Object]');
		expect(after.inherited).toEqual([]);
		progress(`probe in n8n main pid ${after.pid}: ${after.ownKeys.length} own keys, unchanged`);

		// n8n answers, and a genuine message still starts exactly one execution.
		expect((await line.client.request('GET', '/rest/workflows')).status).toBe(200);
		expect(await executions(workflowA)).toHaveLength(0);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'After the attacks');
		const found = await exactlyExecutions(workflowA, 1);
		expect(found[0]?.items.map((item) => item.text)).toEqual(['After the attacks']);
		expect(found[0]?.status).toBe('success');
	});

	it('static data holds no URL secret and no application token', async () => {
		const bot = theBot();
		const secret = new URL(bot.webhookUrl).searchParams.get('token') ?? '';
		expect(secret.length).toBeGreaterThan(10);
		const staticData = await staticDataOf(workflowA);
		const text = JSON.stringify(staticData);
		progress(`static data: ${text}`);
		expect(text).not.toContain(secret);
		expect(text).not.toContain(bot.applicationToken);
		const state = nodeStateOf(staticData);
		expect(state.botId).toBe(bot.id);
		for (const key of Object.keys(state))
			expect([
				'botId',
				'webhookUrlHash',
				'webhookBaseHash',
				'applicationTokenHash',
				'memberId',
				'recentEvents',
				'linesBefore',
			]).toContain(key);
	});

	it('static data keeps the pinned application token hash and member ID once a request starts no execution', async () => {
		// n8n 2.x saves no static data of a webhook request that starts an execution; an operator's message (heard
		// by the bot, skipped by the trigger) starts none, and n8n saves what the trigger learned before it.
		await operatorWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'An operator answers');
		const state = await waitFor('the pinned token in static data', async () => {
			const found = nodeStateOf(await staticDataOf(workflowA));
			return typeof found.applicationTokenHash === 'string' ? found : undefined;
		});
		expect({
			applicationTokenHash: typeof state.applicationTokenHash,
			memberId: typeof state.memberId,
		}).toEqual({ applicationTokenHash: 'string', memberId: 'string' });
		expect(
			(state.recentEvents as string[]).filter((key) => key.startsWith('message:')),
		).toHaveLength(2);
	});

	it('a post built only from static data gets 403 and starts nothing', async () => {
		const bot = theBot();
		const state = nodeStateOf(await staticDataOf(workflowA));
		const before = (await executions(workflowA)).length;
		const form = new URLSearchParams({
			event: 'ONIMBOTV2MESSAGEADD',
			'data[bot][id]': String(state.botId),
			'data[message][id]': '999999',
			'data[message][text]': 'Forged from static data',
			'data[message][chatId]': String(CHATS.LEAD_TELEGRAM_ACTIVE),
			'auth[domain]': new URL(line.emulator.baseUrl).host,
			'auth[member_id]': String(state.memberId ?? ''),
			'auth[application_token]': String(state.applicationTokenHash ?? ''),
		}).toString();
		const productionUrl = bot.webhookUrl.replace(/\?.*$/, '');
		expect(productionUrl.startsWith(`${line.baseUrl}/webhook/`)).toBe(true);
		expect((await request(productionUrl, { body: { form } })).status).toBe(403);
		const withHashAsToken = `${productionUrl}?token=${String(state.webhookUrlHash)}`;
		expect((await request(withHashAsToken, { body: { form } })).status).toBe(403);
		await new Promise((resolve) => setTimeout(resolve, 2_000));
		expect(await executions(workflowA)).toHaveLength(before);
	});

	it('an event of more than 1,000 form fields (auth last) starts one execution with all of it', async () => {
		const { emulator } = line;
		const before = (await executions(workflowA)).length;
		const rows = Array.from({ length: 340 }, (_, i) => ({
			NAME: `Row ${i + 1}`,
			VALUE: `Value ${i + 1}`,
			DISPLAY: 'LINE',
		}));
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'A big grid', { BLOCKS: [{ GRID: rows }] });
		const delivery = emulator.world.imbot.deliveries.at(-1)!;
		expect(delivery.type).toBe('ONIMBOTV2MESSAGEADD');
		expect(delivery.status).toBe(200);
		const keys = [...new URLSearchParams(delivery.body).keys()];
		expect(keys.length).toBeGreaterThan(1_000);
		expect(keys.at(-1)?.startsWith('auth[')).toBe(true);
		progress(`the big event: ${keys.length} form fields, ${delivery.body.length} bytes`);

		const found = await exactlyExecutions(workflowA, before + 1);
		const [item] = found.at(-1)?.items ?? [];
		expect(item?.text).toBe('A big grid');
		const raw = item?.raw as { data: { message: { params: JsonObject } } };
		const attach = raw.data.message.params.ATTACH as unknown as Array<{
			BLOCKS: Array<{ GRID: unknown }>;
		}>;
		const grid = attach[0]?.BLOCKS[0]?.GRID as Record<string, JsonObject> | JsonObject[];
		const received = Object.values(grid);
		expect(received).toHaveLength(340);
		expect(received[0]).toEqual({ NAME: 'Row 1', VALUE: 'Value 1', DISPLAY: 'LINE' });
		expect(received[339]).toEqual({ NAME: 'Row 340', VALUE: 'Value 340', DISPLAY: 'LINE' });
	});

	it('a replayed genuine delivery is answered 200 and starts no second execution', async () => {
		const { emulator } = line;
		const before = await executions(workflowA);
		const delivery = emulator.world.imbot.deliveries.at(-1)!;
		expect(delivery.status).toBe(200);
		const replayed = await request(delivery.url, { body: { form: delivery.body } });
		expect(replayed.status).toBe(200);
		await new Promise((resolve) => setTimeout(resolve, 2_000));
		expect(await executions(workflowA)).toHaveLength(before.length);
	});

	it('a copy with the same Bot Code and credential cannot be activated while the first is active', async () => {
		const { emulator } = line;
		// theBot() is the emulator's live record: keep what it was while A had it.
		const { id: botId, webhookUrl: urlOfA } = theBot();
		workflowB = (await saveWorkflow('Open channel bot B (copy of A)')).id;
		// n8n 2.x publishes in the background (its publication outbox): the REST call accepts, the trigger's
		// activation error arrives in the workflow's publication status (and the editor's push message).
		const published = await activate(workflowB);
		expect(published.status).toBe(200);
		const refused = await failedPublication(workflowB);
		progress(`publication status of the copy: ${JSON.stringify(refused)}`);
		expect(refused.status).toBe('failed');
		expect(refused.triggers.map((t) => t.errorMessage).join(' ')).toContain(
			'already delivers its events to another workflow',
		);
		// The bot still posts to A, and only A runs.
		expect(theBot()).toMatchObject({ eventMode: 'webhook', webhookUrl: urlOfA });
		const beforeA = (await executions(workflowA)).length;
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Still for A');
		await exactlyExecutions(workflowA, beforeA + 1);
		expect(await executions(workflowB)).toHaveLength(0);

		await line.client.rest('POST', `/rest/workflows/${workflowA}/deactivate`, {});
		await waitFor('the bot switched to fetch', async () =>
			theBot().eventMode === 'fetch' ? true : undefined,
		);
		await line.client.rest('POST', `/rest/workflows/${workflowB}/deactivate`, {});
		expect((await activate(workflowB)).status).toBe(200);
		await waitFor(
			'the bot pointed at B',
			async () =>
				theBot().eventMode === 'webhook' && theBot().webhookUrl !== urlOfA ? true : undefined,
			60_000,
		);
		// The hooks ran; n8n marks the publication done a moment later.
		await waitFor('B published', async () =>
			(await publicationStatus(workflowB)).status === 'published' ? true : undefined,
		);
		expect(bots(emulator).filter((b) => b.code === DEFAULT_BOT_CODE)).toHaveLength(1);
		expect(theBot().id).toBe(botId);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Now for B');
		const found = await exactlyExecutions(workflowB, 1);
		expect(found[0]?.items.map((item) => item.text)).toEqual(['Now for B']);
		expect(await executions(workflowA)).toHaveLength(beforeA + 1);
	});
	it('a webhook code regenerated while active: events still run; re-activation fails loudly, saying what to do', async () => {
		const { emulator } = line;
		const rotated = 'r0t4t3dc0de9x7q2';
		const hook = emulator.world.webhooks.find((w) => w.code === WEBHOOK_CODE);
		if (hook === undefined) throw new Error('The emulator has no full-scope webhook');
		hook.code = rotated;
		await line.client.rest('PATCH', `/rest/credentials/${credentialId}`, {
			name: CREDENTIAL_NAME,
			type: 'bitrix24WebhookApi',
			data: { webhookUrl: emulator.webhookUrl.replace(WEBHOOK_CODE, rotated) },
		});
		const before = (await executions(workflowB)).length;
		// Bitrix24 still posts to the URL the bot was given: the trigger accepts it.
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'After the rotation');
		const found = await exactlyExecutions(workflowB, before + 1);
		expect(found.at(-1)?.items.map((item) => item.text)).toEqual(['After the rotation']);
		// Without a Bot Token in the credential, the bot's token came from the old code: activation says so.
		await line.client.rest('POST', `/rest/workflows/${workflowB}/deactivate`, {});
		expect((await activate(workflowB)).status).toBe(200);
		const refused = await failedPublication(workflowB);
		const message = refused.triggers.map((t) => t.errorMessage).join(' ');
		progress(`publication status after the rotation: ${JSON.stringify(refused)}`);
		expect(message).toContain('BOT_CODE_ALREADY_TAKEN');
		for (const secret of [WEBHOOK_CODE, rotated])
			expect(JSON.stringify(refused)).not.toContain(secret);
	});
});
