/**
 * Bot rows of `npm run bench` (`--only n8n-bot`): a real n8n 2.41.1 server (`n8n start`, regular mode, the packed
 * package installed as a community package) with active workflows, and the emulated portal posting customer
 * messages to them as Bitrix24 posts a webhook-mode bot's events (form-encoded, one at a time per bot, in order).
 * Each row injects 200 customer messages over 20 open-channel chats of its own and times each message from the
 * emulator starting the POST of its event to n8n until the bot's reply reaches the emulator's REST API.
 * - trigger: Bitrix24 Open Channels Trigger (instant) -> Bitrix24 Open Channels, Bot Dialog > Send Message.
 * - floor: n8n's own Webhook node -> Filter (message events) -> HTTP Request posting imbot.v2.Chat.Message.send:
 *   what a hand-built bot does, without verifying the sender. The difference is what the package adds.
 * - polling: the trigger in polling mode (n8n polls at most once a minute): latency is the wait for the poll.
 * Injection: `paced`, each chat's customer writes again 1 s after the bot's answer (chats started 50 ms apart,
 * so about 20 messages a second arrive spread out); `burst`, all 200 at once.
 */
import { randomUUID } from 'node:crypto';

import {
	addLineDialogs,
	addOpenLine,
	OPEN_LINES,
	parseBatchCommand,
	startEmulator,
	type Emulator,
	type ParamRecord,
} from '../../tools/emulator';
import { startActiveServer } from '../../tools/n8n/activeServer';
import { PACKAGE_NAME, type JsonObject } from '../../tools/n8n/runner';
import { webhookCredential, type Workflow, type WorkflowNode } from '../../tools/n8n/workflows';
import { markdownTable, seconds, type Budget } from './measure';

export type BotWorkflow = 'trigger' | 'floor' | 'polling';
export type Injection = 'paced' | 'burst';

export interface BotLoopScenario {
	id: string;
	workflow: BotWorkflow;
	injection: Injection;
}

export const BOT_MESSAGES = 200;
export const BOT_CHATS = 20;
/** Paced: a customer writes again this long after the bot's answer arrived. */
const THINK_MS = 1_000;
/** Paced: the chats' first messages are spread over one think time. */
const STAGGER_MS = THINK_MS / BOT_CHATS;
/** Messages per workflow before its rows, not measured: n8n's first executions pay for cold caches. */
const WARM_UP_MESSAGES = 5;

/** Generous on both sides (portal and credential), so the portal's budget is not what is measured. */
export const BOT_BUDGET: Budget = { burstLimit: 10_000, requestsPerSecond: 1_000 };

export const BOT_LOOP_SCENARIOS: BotLoopScenario[] = [
	{ id: 'n8n-bot-trigger-paced', workflow: 'trigger', injection: 'paced' },
	{ id: 'n8n-bot-trigger-burst', workflow: 'trigger', injection: 'burst' },
	{ id: 'n8n-bot-floor-paced', workflow: 'floor', injection: 'paced' },
	{ id: 'n8n-bot-floor-burst', workflow: 'floor', injection: 'burst' },
	{ id: 'n8n-bot-polling-burst', workflow: 'polling', injection: 'burst' },
];

/** Each workflow's bot is the welcome bot of an open channel of its own (a line has one); polling's is added. */
type Lines = Record<BotWorkflow, number>;

const BOT_CODE: Record<BotWorkflow, string> = {
	trigger: 'n8n_bench_instant',
	floor: 'n8n_bench_floor',
	polling: 'n8n_bench_polling',
};

/** The credential's Bot Token: the trigger registers its bots with it, Bot Dialog sends with it. */
const BOT_TOKEN = 'n8n-bench-bot-token-4f1c9a7e2b';
/** The floor's bot, registered by this script as a hand-built bot would be. */
const FLOOR_BOT_TOKEN = 'n8n-bench-floor-token-8d2e6b1f3c';
const FLOOR_PATH = 'bitrix24-bench-floor';
const CREDENTIAL = { id: 'b24BotBench', name: 'Bitrix24 webhook (bot bench)' };

const WORKFLOW_ID: Record<BotWorkflow, string> = {
	trigger: 'b24BotBenchTrigger',
	floor: 'b24BotBenchFloor',
	polling: 'b24BotBenchPolling',
};

export const replyText = (text: string) => `Re: ${text}`;

export const node = (
	name: string,
	type: string,
	typeVersion: number,
	x: number,
	parameters: JsonObject,
	extra: Partial<WorkflowNode> = {},
): WorkflowNode => ({
	id: randomUUID(),
	name,
	type,
	typeVersion,
	position: [x, 0],
	parameters,
	...extra,
});

export const chain = (...names: string[]): JsonObject =>
	Object.fromEntries(
		names
			.slice(0, -1)
			.map((name, index) => [
				name,
				{ main: [[{ node: names[index + 1], type: 'main', index: 0 }]] },
			]),
	);

const credentials = { bitrix24WebhookApi: CREDENTIAL };
export const lineLocator = (lineId: number) => ({
	channels: [{ line: { __rl: true, mode: 'id', value: String(lineId) } }],
});

/** Trigger (instant or polling) -> Bot Dialog > Send Message "Re: <text>" into the same chat. */
function triggerWorkflow(kind: 'trigger' | 'polling', lineId: number): Workflow {
	const mode =
		kind === 'trigger'
			? { mode: 'instant' }
			: { mode: 'polling', pollTimes: { item: [{ mode: 'everyMinute' }] } };
	return {
		id: WORKFLOW_ID[kind],
		name: `Bot bench: ${kind === 'trigger' ? 'instant' : 'polling'} trigger -> Bot Dialog reply`,
		nodes: [
			node(
				'Customer writes',
				`${PACKAGE_NAME}.bitrix24OpenChannelsTrigger`,
				1,
				0,
				{
					...mode,
					events: ['message'],
					botCode: BOT_CODE[kind],
					attachTo: lineLocator(lineId),
				},
				{ credentials, webhookId: randomUUID() },
			),
			node(
				'Bot replies',
				`${PACKAGE_NAME}.bitrix24OpenChannels`,
				1,
				300,
				{
					resource: 'botDialog',
					operation: 'sendMessage',
					botId: { __rl: true, mode: 'id', value: '={{ $json.botId }}' },
					dialogChatId: '={{ $json.chatId }}',
					text: `=${replyText('{{ $json.text }}')}`,
				},
				{ credentials },
			),
		],
		connections: chain('Customer writes', 'Bot replies'),
		settings: { executionOrder: 'v1' },
	};
}

/** n8n's own nodes: Webhook (answered at once) -> Filter (message events) -> HTTP Request to the portal. */
function floorWorkflow(webhookUrl: string): Workflow {
	const field = (key: string) => `$json.body['data[${key}]']`;
	const body =
		`={{ JSON.stringify({ botToken: '${FLOOR_BOT_TOKEN}', botId: Number(${field('bot][id')}), ` +
		`dialogId: 'chat' + ${field('message][chatId')}, fields: { message: 'Re: ' + ${field('message][text')} } }) }}`;
	return {
		id: WORKFLOW_ID.floor,
		name: "Bot bench: n8n's Webhook -> Filter -> HTTP Request (floor)",
		nodes: [
			node(
				'Webhook',
				'n8n-nodes-base.webhook',
				2,
				0,
				{ httpMethod: 'POST', path: FLOOR_PATH, responseMode: 'onReceived' },
				{ webhookId: randomUUID() },
			),
			node('Customer message', 'n8n-nodes-base.filter', 2.2, 200, {
				conditions: {
					combinator: 'and',
					options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
					conditions: [
						{
							id: randomUUID(),
							leftValue: '={{ $json.body.event }}',
							rightValue: 'ONIMBOTV2MESSAGEADD',
							operator: { type: 'string', operation: 'equals' },
						},
					],
				},
			}),
			node('Reply (HTTP Request)', 'n8n-nodes-base.httpRequest', 4.2, 400, {
				method: 'POST',
				url: `${webhookUrl}imbot.v2.Chat.Message.send.json`,
				sendBody: true,
				specifyBody: 'json',
				jsonBody: body,
			}),
		],
		connections: chain('Webhook', 'Customer message', 'Reply (HTTP Request)'),
		settings: { executionOrder: 'v1' },
	};
}

/** A REST call to the portal, as a hand-built bot's set-up makes it; fails unless Bitrix24 answers a result. */
async function portalCall(
	emulator: Emulator,
	method: string,
	params: JsonObject,
): Promise<unknown> {
	const response = await fetch(`${emulator.webhookUrl}${method}.json`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(params),
	});
	const answer = (await response.json()) as { result?: unknown; error?: string };
	if (!response.ok || answer.result === undefined)
		throw new Error(`${method}: HTTP ${response.status} ${answer.error ?? ''}`);
	return answer.result;
}

/** The floor's bot: registered at n8n's Webhook node URL and made the welcome bot of its line. */
async function registerFloorBot(
	emulator: Emulator,
	n8nBaseUrl: string,
	lineId: number,
): Promise<void> {
	const registered = (await portalCall(emulator, 'imbot.v2.Bot.register', {
		botToken: FLOOR_BOT_TOKEN,
		fields: {
			code: BOT_CODE.floor,
			botToken: FLOOR_BOT_TOKEN,
			type: 'openline',
			isSupportOpenline: true,
			eventMode: 'webhook',
			webhookUrl: `${n8nBaseUrl}/webhook/${FLOOR_PATH}`,
			properties: { name: 'Floor bot' },
		},
	})) as { bot: { id: number } };
	await portalCall(emulator, 'imopenlines.config.update', {
		botToken: FLOOR_BOT_TOKEN,
		CONFIG_ID: lineId,
		PARAMS: {
			WELCOME_BOT_ENABLE: 'Y',
			WELCOME_BOT_ID: registered.bot.id,
			WELCOME_BOT_JOIN: 'always',
			WELCOME_BOT_LEFT: 'queue',
		},
	});
}

/** One bot reply the portal received: when, into which dialog, with which text. */
export interface Reply {
	at: number;
	dialogId: string;
	text: string;
}

/** Every imbot.v2.Chat.Message.send the portal received from the `from`-th request on, alone or inside a batch. */
export function repliesIn(emulator: Emulator, from: number): { replies: Reply[]; next: number } {
	const requests = emulator.requests.slice(from);
	const replies = requests.flatMap((request): Reply[] => {
		const of = (params: ParamRecord): Reply => {
			const fields = (params.fields ?? {}) as ParamRecord;
			return {
				at: request.at,
				dialogId: String(params.dialogId ?? ''),
				text: String(fields.message ?? ''),
			};
		};
		if (request.restMethod === 'imbot.v2.chat.message.send') return [of(request.params)];
		if (request.restMethod !== 'batch') return [];
		return Object.values((request.params.cmd ?? {}) as Record<string, string>)
			.map((command) => parseBatchCommand(command))
			.filter(({ method }) => method.toLowerCase() === 'imbot.v2.chat.message.send')
			.map(({ params }) => of(params));
	});
	return { replies, next: from + requests.length };
}

/** One customer message and what became of it. */
export interface Exchange {
	chatId: number;
	text: string;
	/** When the customer wrote (the emulator raised the event). */
	writtenAt: number;
	/** The ID of the message's event (the last the write raised; a dialog's first also raises the bot's join). */
	eventId?: number;
	/** When the emulator started the POST of the message's event to n8n (instant mode). */
	postedAt?: number;
	/** When n8n answered that POST, and how (200: taken; null: no answer). */
	answeredAt?: number;
	postStatus?: number | null;
	/** The first reply's arrival at the portal's REST API. */
	repliedAt?: number;
	/** Bot messages with this message's reply text in its chat, as the portal holds them at the end: 1 is right. */
	replies: number;
	/** Bot messages with that text in other chats. */
	wrongChat: number;
}

/** Follows the portal's record of requests: each reply's arrival, matched to its customer message by text. */
export class ReplyWatch {
	private next: number;
	private readonly byText = new Map<string, Exchange>();
	private readonly waiters = new Map<string, () => void>();
	stray = 0;

	constructor(private readonly emulator: Emulator) {
		this.next = emulator.requests.length;
	}

	expect(exchange: Exchange): void {
		this.byText.set(replyText(exchange.text), exchange);
	}

	/** Reads what arrived since the last look. */
	scan(): void {
		const { replies, next } = repliesIn(this.emulator, this.next);
		this.next = next;
		for (const reply of replies) {
			const exchange = this.byText.get(reply.text);
			if (!exchange) {
				this.stray += 1;
				continue;
			}
			if (reply.dialogId === `chat${exchange.chatId}` && exchange.repliedAt === undefined) {
				exchange.repliedAt = reply.at;
				this.waiters.get(reply.text)?.();
			}
		}
	}

	/** Resolves when the message's reply arrived, or after timeoutMs. */
	async replyTo(exchange: Exchange, timeoutMs: number): Promise<void> {
		if (exchange.repliedAt !== undefined) return;
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, timeoutMs);
			this.waiters.set(replyText(exchange.text), () => {
				clearTimeout(timer);
				resolve();
			});
		});
	}
}

/** Scans the portal's record every few ms while `work` runs. */
export async function watching<T>(watch: ReplyWatch, work: () => Promise<T>): Promise<T> {
	const timer = setInterval(() => watch.scan(), 2);
	try {
		return await work();
	} finally {
		clearInterval(timer);
		watch.scan();
	}
}

export const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

export function write(
	emulator: Emulator,
	watch: ReplyWatch,
	chatId: number,
	text: string,
): Exchange {
	const exchange: Exchange = {
		chatId,
		text,
		writtenAt: Date.now(),
		replies: 0,
		wrongChat: 0,
	};
	watch.expect(exchange);
	const { eventIds } = emulator.bots.customerWrites(chatId, text);
	exchange.eventId = eventIds.at(-1);
	return exchange;
}

/** Each chat's customer writes, waits for the answer, reads for THINK_MS and writes again. */
async function injectPaced(
	emulator: Emulator,
	watch: ReplyWatch,
	chats: number[],
	texts: (chatId: number, index: number) => string,
	perChat: number,
): Promise<Exchange[]> {
	const exchanges: Exchange[] = [];
	await Promise.all(
		chats.map(async (chatId, chatIndex) => {
			await sleep(chatIndex * STAGGER_MS);
			for (let index = 0; index < perChat; index++) {
				const exchange = write(emulator, watch, chatId, texts(chatId, index));
				exchanges.push(exchange);
				await watch.replyTo(exchange, REPLY_TIMEOUT_MS);
				if (index < perChat - 1) await sleep(THINK_MS);
			}
		}),
	);
	return exchanges;
}

/** Every message at once, the chats taking turns (message k into chat k mod 20). */
async function injectBurst(
	emulator: Emulator,
	watch: ReplyWatch,
	chats: number[],
	texts: (chatId: number, index: number) => string,
	perChat: number,
	timeoutMs: number,
): Promise<Exchange[]> {
	const exchanges: Exchange[] = [];
	for (let index = 0; index < perChat; index++)
		for (const chatId of chats)
			exchanges.push(write(emulator, watch, chatId, texts(chatId, index)));
	const deadline = Date.now() + timeoutMs;
	while (exchanges.some((e) => e.repliedAt === undefined) && Date.now() < deadline) await sleep(10);
	return exchanges;
}

/** A reply normally comes within a second; after this the message counts as unanswered. */
const REPLY_TIMEOUT_MS = 30_000;
/** A burst's last reply may come minutes later on a busy machine (the events go to n8n one at a time). */
const BURST_TIMEOUT_MS = 300_000;
/** Polling: n8n's minute schedule, the execution of 200 items, and slack. */
const POLLING_TIMEOUT_MS = 150_000;

export interface BotLoopResult {
	scenario: BotLoopScenario;
	exchanges: Exchange[];
	/** Replies matching no message of the row. */
	stray: number;
	/** First message written to the last reply. */
	wallMs: number;
}

/** Nearest-rank percentile of the values (ms). */
export function percentile(values: readonly number[], p: number): number | undefined {
	if (values.length === 0) return undefined;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The POST of each exchange's event (start, answer, status), from the portal's record of deliveries. */
function notePosts(emulator: Emulator, exchanges: Exchange[]): void {
	const deliveries = new Map(emulator.world.imbot.deliveries.map((d) => [d.eventId, d]));
	for (const exchange of exchanges) {
		const delivery = deliveries.get(exchange.eventId ?? -1);
		if (!delivery) continue;
		exchange.postedAt = delivery.postedAt;
		exchange.answeredAt = delivery.answeredAt;
		exchange.postStatus = delivery.status;
	}
}

/** Where each reply landed, as the portal holds the chats at the end: its own chat once, and nowhere else. */
function noteLanded(emulator: Emulator, exchanges: Exchange[]): void {
	const byReply = new Map(exchanges.map((e) => [replyText(e.text), e]));
	for (const dialog of emulator.world.imbot.dialogs)
		for (const message of dialog.messages) {
			const exchange =
				message.authorId === dialog.customerId ? undefined : byReply.get(message.text);
			if (exchange === undefined) continue;
			if (dialog.chatId === exchange.chatId) exchange.replies += 1;
			else exchange.wrongChat += 1;
		}
}

async function runRow(
	emulator: Emulator,
	scenario: BotLoopScenario,
	chats: number[],
): Promise<BotLoopResult> {
	const watch = new ReplyWatch(emulator);
	const perChat = BOT_MESSAGES / BOT_CHATS;
	const texts = (chatId: number, index: number) =>
		`${scenario.id}: chat ${chatId}, message ${index + 1}`;
	const exchanges = await watching(watch, async () =>
		scenario.injection === 'paced'
			? await injectPaced(emulator, watch, chats, texts, perChat)
			: await injectBurst(
					emulator,
					watch,
					chats,
					texts,
					perChat,
					scenario.workflow === 'polling' ? POLLING_TIMEOUT_MS : BURST_TIMEOUT_MS,
				),
	);
	await emulator.bots.settled();
	notePosts(emulator, exchanges);
	noteLanded(emulator, exchanges);
	const first = Math.min(...exchanges.map((e) => e.writtenAt));
	const last = Math.max(...exchanges.map((e) => e.repliedAt ?? first));
	return { scenario, exchanges, stray: watch.stray, wallMs: last - first };
}

/** The portal's last calls and deliveries, for a failure's message. */
export function portalLog(emulator: Emulator): string {
	const calls = emulator.requests
		.slice(-8)
		.map((r) => `${r.restMethod ?? r.path} ${r.status ?? 'no answer'} ${r.error ?? ''}`.trim());
	const posts = emulator.world.imbot.deliveries
		.slice(-4)
		.map((d) => `${d.type} -> ${d.status ?? d.error ?? 'no answer'}`);
	return `portal calls: ${calls.join(', ') || 'none'}; event posts: ${posts.join(', ') || 'none'}`;
}

/** Until `check` gives a value (polled every 200 ms), or fails after timeoutMs naming `what`. */
export async function until<T>(
	what: string,
	check: () => T | undefined,
	timeoutMs = 120_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await sleep(200);
	}
}

/** n8n activates published workflows in the background after it starts: each bot ready and on its line. */
async function botReady(emulator: Emulator, workflow: BotWorkflow, lineId: number): Promise<void> {
	const { imbot } = emulator.world;
	const mode = workflow === 'polling' ? 'fetch' : 'webhook';
	const bot = await until(`the ${workflow} bot`, () =>
		imbot.registered.find((b) => b.code === BOT_CODE[workflow] && b.eventMode === mode),
	);
	await until(`the ${workflow} bot on its open channel`, () =>
		imbot.lines.find((l) => l.id === lineId)?.welcomeBotId === bot.id ? true : undefined,
	);
}

/**
 * Runs the rows in one n8n server (every workflow they need active) against one emulated portal with a generous
 * budget; each row gets 20 chats of its own on its workflow's open channel, and each workflow a few messages of
 * warm-up first.
 */
export async function runBotLoop(
	scenarios: BotLoopScenario[],
	progress: (id: string, expected: string) => void,
	done: (text: string) => void,
	{
		log = () => undefined,
		env,
	}: { log?: (line: string) => void; env?: Record<string, string> } = {},
): Promise<BotLoopResult[]> {
	const emulator = await startEmulator(BOT_BUDGET);
	const workflows = [...new Set(scenarios.map((s) => s.workflow))];
	let server: Awaited<ReturnType<typeof startActiveServer>> | undefined;
	try {
		const lines: Lines = {
			trigger: OPEN_LINES.SUPPORT,
			floor: OPEN_LINES.SALES,
			polling: addOpenLine(emulator.world, 'Bench: polling bot'),
		};
		const chatsOf = new Map(
			scenarios.map((s) => [s.id, addLineDialogs(emulator.world, lines[s.workflow], BOT_CHATS)]),
		);
		const warmUpChat = new Map(
			workflows.map((w) => [w, addLineDialogs(emulator.world, lines[w], 1)[0] ?? 0]),
		);
		server = await startActiveServer({
			name: 'bench-bot',
			env,
			credentials: [
				{
					...webhookCredential(CREDENTIAL, emulator.webhookUrl, BOT_BUDGET),
					data: { webhookUrl: emulator.webhookUrl, botToken: BOT_TOKEN, ...BOT_BUDGET },
				},
			],
			workflows: workflows.map((w) =>
				w === 'floor' ? floorWorkflow(emulator.webhookUrl) : triggerWorkflow(w, lines[w]),
			),
			log,
		});
		if (workflows.includes('floor')) await registerFloorBot(emulator, server.baseUrl, lines.floor);
		for (const workflow of workflows) {
			await botReady(emulator, workflow, lines[workflow]);
			if (workflow === 'polling') continue;
			// Warm-up, not measured: n8n's first executions of a workflow are slower.
			const watch = new ReplyWatch(emulator);
			await watching(watch, async () => {
				for (let index = 0; index < WARM_UP_MESSAGES; index++) {
					const chatId = warmUpChat.get(workflow) ?? 0;
					const exchange = write(emulator, watch, chatId, `warm-up ${workflow} ${index + 1}`);
					await watch.replyTo(exchange, REPLY_TIMEOUT_MS);
					if (exchange.repliedAt === undefined)
						throw new Error(
							`The ${workflow} workflow did not answer the warm-up message; ${portalLog(emulator)}`,
						);
				}
			});
		}
		const results: BotLoopResult[] = [];
		for (const scenario of scenarios) {
			progress(
				scenario.id,
				scenario.workflow === 'polling' ? ' (up to a minute for the poll)' : '',
			);
			const result = await runRow(emulator, scenario, chatsOf.get(scenario.id) ?? []);
			done(seconds(result.wallMs));
			results.push(result);
		}
		return results;
	} finally {
		await server?.stop();
		await emulator.close();
	}
}

const WORKFLOW_LABEL: Record<BotWorkflow, string> = {
	trigger: 'Trigger (instant) -> Bot Dialog Send Message',
	floor: "n8n's Webhook -> Filter -> HTTP Request (floor)",
	polling: 'Trigger (polling, every minute) -> Bot Dialog Send Message',
};

const INJECTION_LABEL: Record<Injection, string> = {
	paced: `paced (each customer writes ${THINK_MS / 1000} s after the answer)`,
	burst: 'burst (all at once)',
};

const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${Math.round(value)} ms`);

/** Per exchange, `to` - `from` where both are known (ms). */
function spans(
	result: BotLoopResult,
	from: 'postedAt' | 'writtenAt',
	to: 'repliedAt' | 'answeredAt',
): number[] {
	return result.exchanges.flatMap((e) => {
		const [start, end] = [e[from], e[to]];
		return start !== undefined && end !== undefined ? [end - start] : [];
	});
}

export const BOT_LOOP_HEADER = [
	'Workflow',
	'Injection',
	'Event POST -> reply p50 / p95 / max',
	"n8n's answer to the POST p50 / p95 / max",
	'Customer -> reply p50 / p95 / max',
	'Throughput',
	'Replied once, right chat',
	'Missing / twice / wrong chat / stray',
	'POSTs not answered 200',
];

export function botLoopRows(results: BotLoopResult[]): string[][] {
	return results.map((result) => {
		const { scenario, exchanges } = result;
		const triple = (values: number[]) =>
			values.length === 0 ? 'n/a' : [50, 95, 100].map((p) => ms(percentile(values, p))).join(' / ');
		const polling = scenario.workflow === 'polling';
		const once = exchanges.filter((e) => e.replies === 1 && e.wrongChat === 0).length;
		const missing = exchanges.filter((e) => e.replies === 0).length;
		const twice = exchanges.filter((e) => e.replies > 1).length;
		const wrong = exchanges.filter((e) => e.wrongChat > 0).length;
		const replied = exchanges.length - missing;
		return [
			WORKFLOW_LABEL[scenario.workflow],
			INJECTION_LABEL[scenario.injection],
			polling ? 'n/a (fetched)' : triple(spans(result, 'postedAt', 'repliedAt')),
			polling ? 'n/a' : triple(spans(result, 'postedAt', 'answeredAt')),
			triple(spans(result, 'writtenAt', 'repliedAt')),
			`${(replied / (result.wallMs / 1000)).toFixed(1)} messages/s`,
			`${once} of ${exchanges.length}`,
			`${missing} / ${twice} / ${wrong} / ${result.stray}`,
			polling ? 'n/a' : String(exchanges.filter((e) => e.postStatus !== 200).length),
		];
	});
}

export const BOT_LOOP_ABOUT =
	`Bot rows: real n8n 2.41.1 (\`n8n start\`, regular mode, SQLite, default \`vm\` expression engine, the packed ` +
	`package installed as a community package), active workflows, the emulated portal in this process posting each ` +
	`customer message's event to n8n as Bitrix24 posts a webhook-mode bot's events (form-encoded, one at a time per ` +
	`bot, in order: the next POST waits for n8n's answer to the one before). ${BOT_MESSAGES} messages over ` +
	`${BOT_CHATS} chats per row (chats of its own); each reply's arrival is matched to its message by text, and the ` +
	`chats as the portal holds them at the end are counted (once in its own chat, none elsewhere). "Event POST -> reply": from the emulator starting the POST of the message's event to n8n until the reply ` +
	`(imbot.v2.Chat.Message.send) reached the portal; "n8n's answer": from that POST's start to n8n's HTTP answer ` +
	`(which paces the bot's queue); "Customer -> reply" adds the wait in the bot's delivery queue. Throughput: messages ` +
	`answered / (first message to last reply). Budget ${BOT_BUDGET.burstLimit} / ${BOT_BUDGET.requestsPerSecond} per ` +
	`s on the portal and the credential, so the portal is not the limit. Each instant-mode workflow had ${WARM_UP_MESSAGES} ` +
	`messages of warm-up first. Polling: n8n polls at most once a minute, so its latency is the wait for the poll.`;

export const botLoopTable = (results: BotLoopResult[]): string =>
	markdownTable(BOT_LOOP_HEADER, botLoopRows(results));
