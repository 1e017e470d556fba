/**
 * End-to-end: the trigger's Reliable mode (the default of new workflows) in a real n8n 2.41.1 server (`n8n start`
 * on 127.0.0.1 only: no public URL) against the emulated portal. A workflow "Customer writes -> Reply" answers each
 * message with a Bot Dialog message. Four customers keep writing while n8n is killed (SIGKILL) and started again,
 * stopped cleanly, off for ten minutes of the portal's clock, and while the workflow is deactivated: every message
 * starts exactly one execution, in order per chat, and its reply reaches its chat once. Deactivating and deleting
 * the workflow give the open channel its own welcome-bot setting back.
 */
import { randomUUID } from 'node:crypto';

import { CHATS, OPEN_LINES, lineChatState, type RegisteredBot } from '../../tools/emulator';
import { parseExecutionData, type JsonObject } from '../../tools/n8n/runner';
import { openEditorLine, type EditorLine } from './support/editorServer';
import { linesUnderTest, printTimings, progress, timed, waitFor } from './support/harness';

const LINE = linesUnderTest().includes('2.x') ? '2.x' : undefined;
const describeLine = LINE === undefined ? describe.skip : describe;

const TRIGGER = 'Customer writes';
const BOT_CODE = 'n8n_reliable_bot';
const BOT_TOKEN = 'n8n-e2e-reliable-bot-7d1e4b2a90c3';
/** The four conversations: open-line chats of the Customer support line. */
const CONVERSATIONS = [
	CHATS.LEAD_TELEGRAM_ACTIVE,
	CHATS.CONTACT_WHATSAPP_ACTIVE,
	CHATS.LEAD2_LIVECHAT_ACTIVE,
	CHATS.LEAD_LIVECHAT_NEW,
];

/** The portal's clock runs ahead by this much once the test says so (the ten-minute outage). */
let clockShiftMs = 0;
let line: EditorLine;
let workflowId = '';
let versionId = '';
let bot: RegisteredBot;
/** Every message customers wrote, in order: its chat and text. */
const written: Array<{ chatId: number; text: string }> = [];

function reliableBotWorkflow(credential: { id: string; name: string }): JsonObject {
	const credentials = { bitrix24WebhookApi: credential };
	const fromTrigger = (field: string) => ({
		__rl: true,
		mode: 'id',
		value: `={{ $('${TRIGGER}').item.json.${field} }}`,
	});
	return {
		name: 'Reliable bot (e2e)',
		nodes: [
			{
				id: randomUUID(),
				name: TRIGGER,
				type: 'n8n-nodes-bitrix24-open-channels.bitrix24OpenChannelsTrigger',
				// What a new workflow gets: version 2, whose Mode defaults to Reliable (not set here).
				typeVersion: 2,
				position: [0, 0],
				webhookId: randomUUID(),
				parameters: {
					botCode: BOT_CODE,
					botName: 'Reliable Assistant',
					attachTo: {
						channels: [{ line: { __rl: true, mode: 'id', value: String(OPEN_LINES.SUPPORT) } }],
					},
				},
				credentials,
			},
			{
				id: randomUUID(),
				name: 'Reply',
				type: 'n8n-nodes-bitrix24-open-channels.bitrix24OpenChannels',
				typeVersion: 1,
				position: [300, 0],
				parameters: {
					resource: 'botDialog',
					operation: 'sendMessage',
					botId: fromTrigger('botId'),
					dialogChatId: fromTrigger('chatId'),
					text: `={{ 're: ' + $('${TRIGGER}').item.json.text }}`,
				},
				credentials,
			},
		],
		connections: { [TRIGGER]: { main: [[{ node: 'Reply', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
		active: false,
	};
}

async function activate(): Promise<void> {
	await line.client.rest('POST', `/rest/workflows/${workflowId}/activate`, { versionId });
}

const supportLine = () => line.emulator.world.imbot.lines.find((l) => l.id === OPEN_LINES.SUPPORT);

/** Waits until the bot is the support line's welcome bot again (n8n activated the trigger). */
async function botOnTheLine(): Promise<void> {
	await waitFor('the bot on the support line', async () =>
		supportLine()?.welcomeBotEnable === true && supportLine()?.welcomeBotId === bot.id
			? true
			: undefined,
	);
}

function customerWrites(chatId: number, text: string): void {
	written.push({ chatId, text });
	line.emulator.bots.customerWrites(chatId, text);
}

/** Customers take turns writing `count` messages, `everyMs` apart; `at(i)` runs before message i. */
async function conversation(
	label: string,
	count: number,
	everyMs: number,
	at: (i: number) => Promise<void> = async () => undefined,
): Promise<void> {
	for (let i = 0; i < count; i += 1) {
		await at(i);
		customerWrites(CONVERSATIONS[i % CONVERSATIONS.length] as number, `${label} ${i + 1}`);
		await new Promise((resolve) => setTimeout(resolve, everyMs));
	}
}

/** The bot's replies in a chat, oldest first. */
const repliesIn = (chatId: number): string[] =>
	(lineChatState(line.emulator.world, chatId)?.messages ?? [])
		.filter((m) => m.authorId === bot.id)
		.map((m) => m.text);

/** Every message written so far has its reply in its chat (the executions ran). */
async function allAnswered(what: string): Promise<void> {
	await waitFor(
		`${what}: a reply to each of ${written.length} messages`,
		async () =>
			written.every(({ chatId, text }) => repliesIn(chatId).includes(`re: ${text}`))
				? true
				: undefined,
		180_000,
	);
}

interface ExecutionRow {
	id: string;
	status: string;
	startedAt: string;
}

/** Each execution of the workflow (this test makes fewer than 100), oldest first, with its trigger item's text. */
async function executionTexts(): Promise<Array<ExecutionRow & { text: string; chatId: number }>> {
	const list = await line.client.rest<{ results: ExecutionRow[] }>(
		'GET',
		`/rest/executions?limit=100&filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
	);
	const rows = [];
	for (const row of [...list.results].sort((a, b) => Number(a.id) - Number(b.id))) {
		const { data } = await line.client.rest<{ data: string }>('GET', `/rest/executions/${row.id}`);
		const item = parseExecutionData(line.installed, data).resultData.runData[TRIGGER]?.[0]?.data
			?.main?.[0]?.[0]?.json;
		rows.push({ ...row, text: String(item?.text), chatId: Number(item?.chatId) });
	}
	return rows;
}

/** Every message written: exactly one execution, each succeeded, in order per chat; one reply each, in order. */
async function exactlyOnceInOrder(what: string): Promise<void> {
	await allAnswered(what);
	const executions = await timed(`${what}: executions read back`, async () => {
		return await waitFor(`${what}: every execution ended`, async () => {
			const rows = await executionTexts();
			return rows.length >= written.length &&
				rows.every((e) => !['new', 'running'].includes(e.status))
				? rows
				: undefined;
		});
	});
	const sends = line.emulator.requests.filter((r) => r.restMethod === 'imbot.v2.chat.message.send');
	const registers = line.emulator.requests.filter((r) => r.restMethod === 'imbot.v2.bot.register');
	progress(
		`${what}: ${executions.length} executions, ${sends.length} sends (${sends.filter((r) => r.status !== 200).length} not 200), ${registers.length} registers`,
	);
	for (const text of new Set(sends.map((r) => JSON.stringify(r.params.fields ?? r.params))))
		if (sends.filter((r) => JSON.stringify(r.params.fields ?? r.params) === text).length > 1)
			progress(
				`sent more than once: ${text} at ${sends
					.filter((r) => JSON.stringify(r.params.fields ?? r.params) === text)
					.map((r) => `${new Date(r.at).toISOString()} ${r.status} ${r.error ?? ''}`)
					.join(', ')}`,
			);
	expect(executions.map((e) => e.text).sort()).toEqual(written.map((w) => w.text).sort());
	expect(executions.filter((e) => e.status !== 'success')).toEqual([]);
	for (const chatId of CONVERSATIONS) {
		const texts = written.filter((w) => w.chatId === chatId).map((w) => w.text);
		expect(executions.filter((e) => e.chatId === chatId).map((e) => e.text)).toEqual(texts);
		expect(repliesIn(chatId).filter((r) => r !== 're: hello')).toEqual(
			texts.filter((t) => t !== 'hello').map((t) => `re: ${t}`),
		);
	}
}

describeLine('Reliable mode in a real n8n 2.41.1 (no public URL)', () => {
	beforeAll(async () => {
		line = await openEditorLine('2.x', {
			emulator: { now: () => Date.now() + clockShiftMs },
		});
		const credential = await line.client.rest<{ id: string; name: string }>(
			'POST',
			'/rest/credentials',
			{
				name: 'Bitrix24 webhook with bot token (reliable e2e)',
				type: 'bitrix24WebhookApi',
				data: { webhookUrl: line.emulator.webhookUrl, botToken: BOT_TOKEN },
			},
		);
		const saved = await line.client.rest<{ id: string; versionId: string }>(
			'POST',
			'/rest/workflows',
			reliableBotWorkflow(credential),
		);
		workflowId = saved.id;
		versionId = saved.versionId;
	}, 300_000);

	afterAll(async () => {
		await line?.close();
		printTimings();
	});

	it('activation sets up a fetch-mode bot on the channel; the four customers are answered', async () => {
		await activate();
		bot = await waitFor('the bot registered', async () =>
			line.emulator.world.imbot.registered.find((b) => b.code === BOT_CODE),
		);
		expect(bot).toMatchObject({ eventMode: 'fetch', webhookUrl: '' });
		await botOnTheLine();
		for (const chatId of CONVERSATIONS) customerWrites(chatId, 'hello');
		await allAnswered('first messages');
	});

	it('n8n killed (SIGKILL) while four customers write 20 messages over 60 s: each message once, in order, answered', async () => {
		await conversation('during the crash', 20, 3000, async (i) => {
			if (i !== 5) return;
			// Between two messages, once every earlier one is answered: n8n dies mid-conversation, not mid-execution.
			await allAnswered('before the kill');
			void line.restart('kill').then(botOnTheLine);
		});
		await exactlyOnceInOrder('after the crash');
	});

	it('n8n stopped cleanly and started again while customers write: each message once, in order, answered', async () => {
		await conversation('during the restart', 8, 2000, async (i) => {
			if (i === 2) void line.restart('stop');
		});
		await exactlyOnceInOrder('after the restart');
	});

	it("n8n down for ten minutes of the portal's clock: what customers wrote meanwhile is answered once n8n is back", async () => {
		await line.restart('kill', async () => {
			await conversation('in the outage', 4, 200);
			clockShiftMs += 10 * 60_000;
			await conversation('ten minutes later', 4, 200);
		});
		await exactlyOnceInOrder('after the outage');
	});

	it('deactivated: the channel gets its own setting back, 10 messages wait in Bitrix24 and are answered on activation', async () => {
		await line.client.rest('POST', `/rest/workflows/${workflowId}/deactivate`, {});
		await waitFor('the channel given back', async () =>
			supportLine()?.welcomeBotEnable === false ? true : undefined,
		);
		await conversation('while deactivated', 10, 300);
		await new Promise((resolve) => setTimeout(resolve, 3000));
		expect(written.filter((w) => w.text.startsWith('while deactivated')).length).toBe(10);
		expect(repliesIn(CHATS.LEAD_TELEGRAM_ACTIVE).some((r) => r.includes('while deactivated'))).toBe(
			false,
		);
		const workflow = await line.client.rest<{ versionId: string }>(
			'GET',
			`/rest/workflows/${workflowId}`,
		);
		versionId = workflow.versionId;
		await activate();
		await botOnTheLine();
		await exactlyOnceInOrder('after activation');
	});

	it('deleted: the channel gets its own setting back and nothing reads the bot any more', async () => {
		await line.client.rest('POST', `/rest/workflows/${workflowId}/archive`, {});
		// n8n 2.x unpublishes in the background: deletion waits for it (409 meanwhile).
		await waitFor(
			'the workflow deleted',
			async () =>
				(await line.client.rest('DELETE', `/rest/workflows/${workflowId}`).then(
					() => true,
					(error: unknown) =>
						String(error).includes('HTTP 409') ? undefined : Promise.reject(error),
				)) as true | undefined,
		);
		await waitFor('the channel given back', async () =>
			supportLine()?.welcomeBotEnable === false ? true : undefined,
		);
		const reads = () =>
			line.emulator.requests.filter((r) => r.restMethod === 'imbot.v2.event.get').length;
		const before = reads();
		await new Promise((resolve) => setTimeout(resolve, 7000));
		expect(reads()).toBe(before);
		progress(`reliable e2e: ${written.length} messages, each answered once`);
	});
});
