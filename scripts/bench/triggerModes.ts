/**
 * The trigger's modes side by side (`npm run bench -- --only n8n-trigger-modes`, about 13 minutes): one real n8n
 * 2.41.1 server (`n8n start`, regular mode, SQLite, the default `vm` expression engine, the packed package installed
 * as a community package) on 127.0.0.1 against the emulated portal at the credential's default budget (burst 50,
 * 2 requests/s, on the portal and in the credential), every workflow "trigger -> Bot Dialog > Send Message (reply)":
 * - reliable: three workflows in Reliable mode (node version 2's default), each with its bot on an open channel of
 *   its own (one for the conversation, all three for the first messages after a quiet spell);
 * - instant: the trigger in Instant mode (the portal posts each event to n8n);
 * - polling: the trigger in Polling mode, every minute (only its idle cost is measured here; botLoop.ts has its
 *   latency: the wait for n8n's next poll);
 * - webhook: n8n's own Webhook node -> Send Message, driven by a plain JSON POST: n8n itself, the baseline.
 * In this order: (1) an idle window with no customer message (the Event.get reads of each bot counted), (2) warm-up
 * messages, (3) instant, (4) webhook, (5) a conversation in reliable mode, (6) first messages after a quiet spell
 * in reliable mode; then a table computed from what was measured: another idle pace's cost and latency.
 */
import { randomUUID } from 'node:crypto';

import {
	addLineDialogs,
	addOpenLine,
	OPEN_LINES,
	startEmulator,
	type Emulator,
	type RecordedRequest,
	type RegisteredBot,
} from '../../tools/emulator';
import { startActiveServer } from '../../tools/n8n/activeServer';
import { PACKAGE_NAME } from '../../tools/n8n/runner';
import { webhookCredential, type Workflow } from '../../tools/n8n/workflows';
import {
	chain,
	lineLocator,
	node,
	percentile,
	portalLog,
	ReplyWatch,
	replyText,
	sleep,
	until,
	watching,
	write,
	type Exchange,
} from './botLoop';
import { markdownTable, seconds, thousands, type Budget } from './measure';

export interface TriggerModesScenario {
	id: string;
}

/** One scenario: the rows share one n8n server and one portal (their idle windows overlap). */
export const TRIGGER_MODES_SCENARIOS: TriggerModesScenario[] = [{ id: 'n8n-trigger-modes' }];

/** The credential's default budget (credentials' Burst Limit and Requests per Second), on the portal too. */
export const DEFAULT_BUDGET: Budget = { burstLimit: 50, requestsPerSecond: 2 };

/** Reliable mode's paces (nodes/Bitrix24OpenChannelsTrigger/eventLoop.ts, RELIABLE_PACE) at that budget. */
const RELIABLE_IDLE_SHARE = 0.1;
const RELIABLE_CONVERSATION_SHARE = 1 / 3;
const CONVERSATION_MS = 60_000;
const idleIntervalMs = 1000 / (DEFAULT_BUDGET.requestsPerSecond * RELIABLE_IDLE_SHARE);
const conversationIntervalMs =
	1000 / (DEFAULT_BUDGET.requestsPerSecond * RELIABLE_CONVERSATION_SHARE);
const budgetPerHour = DEFAULT_BUDGET.requestsPerSecond * 3600;

/** Samples per row. */
const CONVERSATION_SAMPLES = 30;
const INSTANT_SAMPLES = 30;
const WEBHOOK_SAMPLES = 30;
/** First messages after a quiet spell: this many per reliable bot, the bots in parallel. */
const QUIET_SAMPLES_PER_BOT = 4;
const RELIABLE_BOTS = 3;
/** The idle window (no customer message anywhere): two of n8n's minute polls. */
const IDLE_WINDOW_MS = 120_000;
/** A quiet spell: the loop is at its idle pace 60 s after the last event it read plus one conversation read. */
const QUIET_MS = CONVERSATION_MS + 2_000;
/** Warm-up messages per workflow, not measured: n8n's first executions of a workflow are slower. */
const WARM_UP = 3;
const REPLY_TIMEOUT_MS = 60_000;

type Kind = 'reliable' | 'instant' | 'polling';

/**
 * A credential per bot: with a Bot Token set (what Send Message needs over an inbound webhook) a credential speaks as
 * one bot, and Bitrix24 registers no second bot with that token. Each has the default budget, paced on its own.
 */
const credentialOf = (code: string) => ({
	id: `b24Modes_${code}`,
	name: `Bitrix24 webhook (modes bench, ${code})`,
});
const credentialsOf = (code: string) => ({ bitrix24WebhookApi: credentialOf(code) });
const botTokenOf = (code: string) => `tok-${code}-7c3e9a`;
const WEBHOOK_PATH = 'bitrix24-modes-bench-webhook';

/** Deterministic "random" pauses (mulberry32), so a rerun writes at the same offsets. */
function randomSource(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** The reply node as the bot `code`, reading the trigger's item (or the webhook's body under `from`). */
function replyNode(from: string, code: string): ReturnType<typeof node> {
	return node(
		'Bot replies',
		`${PACKAGE_NAME}.bitrix24OpenChannels`,
		1,
		300,
		{
			resource: 'botDialog',
			operation: 'sendMessage',
			botId: { __rl: true, mode: 'id', value: `={{ ${from}.botId }}` },
			dialogChatId: `={{ ${from}.chatId }}`,
			text: `=${replyText(`{{ ${from}.text }}`)}`,
		},
		{ credentials: credentialsOf(code) },
	);
}

interface TriggerSpec {
	kind: Kind;
	code: string;
	lineId: number;
	workflowId: string;
}

/** Trigger (node version 2, what new workflows get) -> Bot Dialog > Send Message "Re: <text>" into the same chat. */
function triggerWorkflow(spec: TriggerSpec): Workflow {
	const mode =
		spec.kind === 'polling'
			? { mode: 'polling', pollTimes: { item: [{ mode: 'everyMinute' }] } }
			: { mode: spec.kind };
	return {
		id: spec.workflowId,
		name: `Modes bench: ${spec.kind} trigger (${spec.code}) -> Bot Dialog reply`,
		nodes: [
			node(
				'Customer writes',
				`${PACKAGE_NAME}.bitrix24OpenChannelsTrigger`,
				2,
				0,
				{
					...mode,
					events: ['message'],
					botCode: spec.code,
					attachTo: lineLocator(spec.lineId),
				},
				{ credentials: credentialsOf(spec.code), webhookId: randomUUID() },
			),
			replyNode('$json', spec.code),
		],
		connections: chain('Customer writes', 'Bot replies'),
		settings: { executionOrder: 'v1' },
	};
}

/** n8n's own Webhook node (answers at once) -> Send Message, the body { botId, chatId, text } of a plain POST. */
function webhookWorkflow(code: string): Workflow {
	return {
		id: 'b24ModesBenchWebhook',
		name: "Modes bench: n8n's Webhook -> Bot Dialog reply",
		nodes: [
			node(
				'Webhook',
				'n8n-nodes-base.webhook',
				2,
				0,
				{ httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'onReceived' },
				{ webhookId: randomUUID() },
			),
			replyNode('$json.body', code),
		],
		connections: chain('Webhook', 'Bot replies'),
		settings: { executionOrder: 'v1' },
	};
}

/** One sample: the exchange, and for reliable mode the read of Event.get that brought its event. */
interface Sample {
	exchange: Exchange;
	/** Arrival of the first Event.get of the bot at or after the message (reliable mode). */
	readAt?: number;
}

interface IdleCount {
	label: string;
	kind: Kind | 'webhook';
	/** Event.get calls of the bot(s) in the window (reliable: the mean of its bots). */
	reads: number;
	bots: number;
}

export interface TriggerModesResult {
	idleWindowMs: number;
	idle: IdleCount[];
	/** Every REST call of the window, whatever its method. */
	idleRequests: number;
	/** Mean gap between a reliable bot's reads while idle, and in the conversation (ms). */
	idleCycleMs: number;
	conversationCycleMs: number;
	conversation: Sample[];
	quiet: Sample[];
	instant: Sample[];
	webhook: Sample[];
	wallMs: number;
}

const isRead = (request: RecordedRequest, botId: number) =>
	request.restMethod === 'imbot.v2.event.get' && Number(request.params.botId) === botId;

const readsOf = (emulator: Emulator, botId: number, from: number, to: number): number[] =>
	emulator.requests
		.filter((request) => isRead(request, botId) && request.at >= from && request.at < to)
		.map((request) => request.at);

const meanGap = (times: number[]): number =>
	times.length < 2 ? NaN : (times[times.length - 1] - times[0]) / (times.length - 1);

/** Each sample's read: the bot's first Event.get that reached the portal at or after the customer wrote. */
function noteReads(emulator: Emulator, botId: number, samples: Sample[]): void {
	const reads = readsOf(emulator, botId, 0, Number.POSITIVE_INFINITY);
	for (const sample of samples) sample.readAt = reads.find((at) => at >= sample.exchange.writtenAt);
}

/** A bot of the portal, once n8n registered it in the given mode and made it its line's welcome bot. */
async function botReady(
	emulator: Emulator,
	code: string,
	eventMode: 'fetch' | 'webhook',
	lineId: number,
): Promise<RegisteredBot> {
	const { imbot } = emulator.world;
	const bot = await until(
		`the bot ${code}`,
		() => imbot.registered.find((b) => b.code === code && b.eventMode === eventMode),
		180_000,
	);
	await until(`the bot ${code} on its open channel`, () =>
		imbot.lines.find((l) => l.id === lineId)?.welcomeBotId === bot.id ? true : undefined,
	);
	return bot;
}

/** A customer writes and waits for the reply (or REPLY_TIMEOUT_MS). */
async function exchange(
	emulator: Emulator,
	watch: ReplyWatch,
	chatId: number,
	text: string,
): Promise<Exchange> {
	const written = write(emulator, watch, chatId, text);
	await watch.replyTo(written, REPLY_TIMEOUT_MS);
	return written;
}

/** The webhook baseline: a plain JSON POST to n8n's Webhook node, timed from the POST's start to the reply. */
async function post(
	watch: ReplyWatch,
	url: string,
	botId: number,
	chatId: number,
	text: string,
): Promise<Exchange> {
	const sent: Exchange = { chatId, text, writtenAt: Date.now(), replies: 0, wrongChat: 0 };
	watch.expect(sent);
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ botId, chatId, text }),
	});
	await response.arrayBuffer();
	sent.postStatus = response.status;
	await watch.replyTo(sent, REPLY_TIMEOUT_MS);
	return sent;
}

/** Counts each reply where the portal holds it at the end: once in its own chat is right. */
function noteLanded(emulator: Emulator, exchanges: Exchange[]): void {
	const byReply = new Map(exchanges.map((e) => [replyText(e.text), e]));
	for (const dialog of emulator.world.imbot.dialogs)
		for (const message of dialog.messages) {
			const found = message.authorId === dialog.customerId ? undefined : byReply.get(message.text);
			if (found === undefined) continue;
			if (dialog.chatId === found.chatId) found.replies += 1;
			else found.wrongChat += 1;
		}
}

export async function runTriggerModes(
	progress: (id: string, expected: string) => void,
	done: (text: string) => void,
	{
		log = () => undefined,
		env,
		note = () => undefined,
		onOutput,
	}: {
		log?: (line: string) => void;
		/** n8n's output lines. */
		onOutput?: (line: string) => void;
		env?: Record<string, string>;
		/** A phase starts (stderr). */
		note?: (line: string) => void;
	} = {},
): Promise<TriggerModesResult> {
	progress(TRIGGER_MODES_SCENARIOS[0].id, ' (about 13 minutes)');
	const started = Date.now();
	const random = randomSource(20261201);
	const between = (low: number, high: number) => low + random() * (high - low);
	const emulator = await startEmulator(DEFAULT_BUDGET);
	let server: Awaited<ReturnType<typeof startActiveServer>> | undefined;
	try {
		const { world } = emulator;
		const reliable: TriggerSpec[] = Array.from({ length: RELIABLE_BOTS }, (_, index) => ({
			kind: 'reliable',
			code: `n8n_modes_reliable_${index + 1}`,
			lineId:
				index === 0 ? OPEN_LINES.SUPPORT : addOpenLine(world, `Bench: reliable bot ${index + 1}`),
			workflowId: `b24ModesBenchReliable${index + 1}`,
		}));
		const instant: TriggerSpec = {
			kind: 'instant',
			code: 'n8n_modes_instant',
			lineId: OPEN_LINES.SALES,
			workflowId: 'b24ModesBenchInstant',
		};
		const polling: TriggerSpec = {
			kind: 'polling',
			code: 'n8n_modes_polling',
			lineId: addOpenLine(world, 'Bench: polling bot'),
			workflowId: 'b24ModesBenchPolling',
		};
		// Per reliable bot: a warm-up chat, the conversation's chat (the first bot's) and the quiet spells' chat.
		const chatOf = (lineId: number) => addLineDialogs(world, lineId, 1)[0] ?? 0;
		const reliableChats = reliable.map((spec) => ({
			warmUp: chatOf(spec.lineId),
			conversation: chatOf(spec.lineId),
			quiet: chatOf(spec.lineId),
		}));
		const instantChat = chatOf(instant.lineId);
		const instantWarmUpChat = chatOf(instant.lineId);
		// The webhook baseline replies as the instant bot into a chat it sits in (after a customer's first message).
		const webhookChat = chatOf(instant.lineId);

		note('starting n8n with 6 active workflows');
		server = await startActiveServer({
			name: 'bench-modes',
			env,
			credentials: [...reliable, instant, polling].map(({ code }) => ({
				...webhookCredential(credentialOf(code), emulator.webhookUrl, DEFAULT_BUDGET),
				data: { webhookUrl: emulator.webhookUrl, botToken: botTokenOf(code), ...DEFAULT_BUDGET },
			})),
			workflows: [
				...reliable.map(triggerWorkflow),
				triggerWorkflow(instant),
				triggerWorkflow(polling),
				webhookWorkflow(instant.code),
			],
			log,
			onOutput,
		});
		const webhookUrl = `${server.baseUrl}/webhook/${WEBHOOK_PATH}`;
		note('waiting for the bots (the polling bot comes with its first poll, up to a minute)');
		const reliableBots: RegisteredBot[] = [];
		for (const spec of reliable)
			reliableBots.push(await botReady(emulator, spec.code, 'fetch', spec.lineId));
		const instantBot = await botReady(emulator, instant.code, 'webhook', instant.lineId);
		const pollingBot = await botReady(emulator, polling.code, 'fetch', polling.lineId);

		// (1) Idle: no customer message has been written yet, so every reliable loop is at its idle pace.
		note(`idle window, ${IDLE_WINDOW_MS / 1000} s`);
		const idleFrom = Date.now();
		await sleep(IDLE_WINDOW_MS);
		const idleTo = Date.now();
		const readsIn = (bot: RegisteredBot) => readsOf(emulator, bot.id, idleFrom, idleTo);
		const reliableReads = reliableBots.map(readsIn);
		const idle: IdleCount[] = [
			{
				label: 'Reliable',
				kind: 'reliable',
				reads: reliableReads.reduce((sum, reads) => sum + reads.length, 0) / reliableBots.length,
				bots: reliableBots.length,
			},
			{ label: 'Instant', kind: 'instant', reads: readsIn(instantBot).length, bots: 1 },
			{
				label: 'Polling (every minute)',
				kind: 'polling',
				reads: readsIn(pollingBot).length,
				bots: 1,
			},
		];
		const idleRequests = emulator.requests.filter(
			(r) => r.restMethod !== null && r.at >= idleFrom && r.at < idleTo,
		).length;
		const idleGaps = reliableReads.map(meanGap).filter((gap) => !Number.isNaN(gap));
		const idleCycleMs = idleGaps.reduce((sum, gap) => sum + gap, 0) / idleGaps.length;

		const watch = new ReplyWatch(emulator);
		const result = await watching(watch, async () => {
			const answered = (what: string, e: Exchange) => {
				if (e.repliedAt === undefined)
					throw new Error(`No reply to the ${what} message; ${portalLog(emulator)}`);
			};
			// (2) Warm-up: the instant workflow, the webhook's chat (the instant bot joins it), the webhook, and the
			// second and further reliable bots (the first one's comes right before its conversation).
			note('warm-up');
			for (let index = 0; index < WARM_UP; index++) {
				answered(
					'instant warm-up',
					await exchange(emulator, watch, instantWarmUpChat, `warm-up instant ${index + 1}`),
				);
				answered(
					'webhook chat',
					await exchange(emulator, watch, webhookChat, `warm-up webhook chat ${index + 1}`),
				);
				answered(
					'webhook warm-up',
					await post(watch, webhookUrl, instantBot.id, webhookChat, `warm-up webhook ${index + 1}`),
				);
			}
			const lastReplyAt = reliableBots.map(() => 0);
			await Promise.all(
				reliable.slice(1).map(async (_, offset) => {
					const index = offset + 1;
					for (let k = 0; k < WARM_UP; k++) {
						const e = await exchange(
							emulator,
							watch,
							reliableChats[index].warmUp,
							`warm-up reliable ${index + 1}.${k + 1}`,
						);
						answered('reliable warm-up', e);
						lastReplyAt[index] = e.repliedAt ?? Date.now();
					}
				}),
			);

			// (3) Instant mode: one customer, writing 1 to 2 s after each reply.
			note(`instant, ${INSTANT_SAMPLES} messages`);
			const instantSamples: Sample[] = [];
			for (let index = 0; index < INSTANT_SAMPLES; index++) {
				instantSamples.push({
					exchange: await exchange(emulator, watch, instantChat, `instant ${index + 1}`),
				});
				await sleep(between(1_000, 2_000));
			}

			// (4) n8n's Webhook node, a plain POST 1 to 2 s after each reply.
			note(`webhook, ${WEBHOOK_SAMPLES} posts`);
			const webhookSamples: Sample[] = [];
			for (let index = 0; index < WEBHOOK_SAMPLES; index++) {
				webhookSamples.push({
					exchange: await post(
						watch,
						webhookUrl,
						instantBot.id,
						webhookChat,
						`webhook ${index + 1}`,
					),
				});
				await sleep(between(1_000, 2_000));
			}

			// (5) Reliable, a conversation under way: after warm-up messages (the loop at its conversation pace), one
			// customer writes 2 to 5 s after each reply (random, so the message falls anywhere in the loop's cycle).
			note(`reliable conversation, ${CONVERSATION_SAMPLES} messages (2 to 5 s apart)`);
			for (let k = 0; k < WARM_UP; k++)
				answered(
					'reliable warm-up',
					await exchange(emulator, watch, reliableChats[0].warmUp, `warm-up reliable 1.${k + 1}`),
				);
			await sleep(between(2_000, 5_000));
			const conversationFrom = Date.now();
			const conversation: Sample[] = [];
			for (let index = 0; index < CONVERSATION_SAMPLES; index++) {
				const e = await exchange(
					emulator,
					watch,
					reliableChats[0].conversation,
					`reliable conversation ${index + 1}`,
				);
				conversation.push({ exchange: e });
				lastReplyAt[0] = e.repliedAt ?? Date.now();
				if (index < CONVERSATION_SAMPLES - 1) await sleep(between(2_000, 5_000));
			}
			const conversationCycleMs = meanGap(
				readsOf(emulator, reliableBots[0].id, conversationFrom, Date.now()),
			);

			// (6) Reliable, the first message after a quiet spell: each bot's customer writes QUIET_MS plus 0 to 5 s after
			// the bot's previous reply (its loop back at the idle pace, the message anywhere in its 5 s cycle).
			note(
				`reliable after a quiet spell, ${QUIET_SAMPLES_PER_BOT} x ${RELIABLE_BOTS} messages (about ${Math.round(
					(QUIET_SAMPLES_PER_BOT * (QUIET_MS + 4_500)) / 60_000,
				)} minutes)`,
			);
			const quiet: Sample[] = [];
			await Promise.all(
				reliable.map(async (_, index) => {
					for (let k = 0; k < QUIET_SAMPLES_PER_BOT; k++) {
						const at = lastReplyAt[index] + QUIET_MS + between(0, idleIntervalMs);
						await sleep(Math.max(0, at - Date.now()));
						const e = await exchange(
							emulator,
							watch,
							reliableChats[index].quiet,
							`reliable quiet ${index + 1}.${k + 1}`,
						);
						quiet.push({ exchange: e });
						lastReplyAt[index] = e.repliedAt ?? Date.now();
					}
				}),
			);
			return { instantSamples, webhookSamples, conversation, conversationCycleMs, quiet };
		});
		await emulator.bots.settled();
		noteReads(emulator, reliableBots[0].id, result.conversation);
		for (const [index, bot] of reliableBots.entries())
			noteReads(
				emulator,
				bot.id,
				result.quiet.filter((s) => s.exchange.chatId === reliableChats[index].quiet),
			);
		const all = [
			...result.conversation,
			...result.quiet,
			...result.instantSamples,
			...result.webhookSamples,
		];
		noteLanded(
			emulator,
			all.map((s) => s.exchange),
		);
		const wallMs = Date.now() - started;
		done(seconds(wallMs));
		return {
			idleWindowMs: idleTo - idleFrom,
			idle,
			idleRequests,
			idleCycleMs,
			conversationCycleMs: result.conversationCycleMs,
			conversation: result.conversation,
			quiet: result.quiet,
			instant: result.instantSamples,
			webhook: result.webhookSamples,
			wallMs,
		};
	} finally {
		await server?.stop();
		await emulator.close();
	}
}

// ------------------------------------------------------------------------------------------------ tables

const s2 = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const triple = (values: number[]) =>
	values.length === 0 ? 'n/a' : [50, 95, 100].map((p) => s2(percentile(values, p))).join(' / ');
const pair = (values: number[]) =>
	values.length === 0 ? 'n/a' : [50, 95].map((p) => s2(percentile(values, p))).join(' / ');

const latencies = (samples: Sample[]) =>
	samples.flatMap(({ exchange: e }) =>
		e.repliedAt === undefined ? [] : [e.repliedAt - e.writtenAt],
	);
const waits = (samples: Sample[]) =>
	samples.flatMap(({ exchange: e, readAt }) =>
		readAt === undefined ? [] : [readAt - e.writtenAt],
	);
/** From the read that brought the event to the reply: the request, n8n's execution, Send Message. */
const overheads = (samples: Sample[]) =>
	samples.flatMap(({ exchange: e, readAt }) =>
		readAt === undefined || e.repliedAt === undefined ? [] : [e.repliedAt - readAt],
	);
const onceRight = (samples: Sample[]) =>
	samples.filter(({ exchange: e }) => e.replies === 1 && e.wrongChat === 0).length;

/** Latency quantiles of a loop reading every `intervalMs` (+ the measured extra per cycle): computed, not measured. */
function modelled(
	intervalMs: number,
	extraMs: number,
	overheadSamples: number[],
): { p50: number; p95: number } {
	const cycle = intervalMs + extraMs;
	const steps = 200;
	const values: number[] = [];
	for (let step = 0; step < steps; step++)
		for (const overhead of overheadSamples) values.push(((step + 0.5) / steps) * cycle + overhead);
	return { p50: percentile(values, 50) ?? NaN, p95: percentile(values, 95) ?? NaN };
}

export function triggerModesReport(result: TriggerModesResult, command: string): string {
	const out: string[] = [];
	const rate = DEFAULT_BUDGET.requestsPerSecond;
	out.push(
		`Trigger modes (\`${command}\`): real n8n 2.41.1 (\`n8n start\`, regular mode, SQLite, default \`vm\` expression ` +
			`engine, the packed package as a community package) on 127.0.0.1, six active workflows (three Reliable, one ` +
			`Instant, one Polling every minute, n8n's Webhook node), each "trigger -> Bot Dialog > Send Message (reply)" ` +
			`with a credential per bot (a Bot Token is one bot's; the webhook row replies as the instant bot) at the ` +
			`default budget (burst ${DEFAULT_BUDGET.burstLimit}, ${rate} requests/s; the portal the same, shared by all). ` +
			`Took ${seconds(result.wallMs)}.`,
		'',
	);

	out.push(
		"**1. From the customer's message to the bot's reply** (customerWrites called -> the reply's " +
			'imbot.v2.Chat.Message.send reaching the portal; the webhook row: the POST started -> the reply). "Wait for ' +
			'the read": to the arrival of the bot\'s first imbot.v2.Event.get after the message; "read -> reply": the rest ' +
			"(the read's answer, n8n starting the execution, Send Message).",
		'',
	);
	const latencyRow = (label: string, how: string, samples: Sample[], reliable: boolean) => [
		label,
		how,
		String(samples.length),
		triple(latencies(samples)),
		reliable ? pair(waits(samples)) : 'n/a',
		reliable ? pair(overheads(samples)) : 'n/a',
		`${onceRight(samples)} of ${samples.length}`,
	];
	out.push(
		markdownTable(
			[
				'Row',
				'How',
				'Samples',
				'Customer -> reply p50 / p95 / max',
				'Wait for the read p50 / p95',
				'Read -> reply p50 / p95',
				'Replied once, right chat',
			],
			[
				latencyRow(
					'(a) Reliable, conversation under way',
					'one customer writing 2-5 s (random) after each reply, the loop at its 1.5 s pace',
					result.conversation,
					true,
				),
				latencyRow(
					'(b) Reliable, first message after a quiet spell',
					`${RELIABLE_BOTS} bots in parallel, ${QUIET_SAMPLES_PER_BOT} each; written ${QUIET_MS / 1000} s + 0-5 s ` +
						`(random) after the bot's previous reply (the loop at its 5 s idle pace; the first of two bots after ` +
						'minutes of quiet)',
					result.quiet,
					true,
				),
				latencyRow(
					'(c) Instant (webhook)',
					'one customer writing 1-2 s after each reply; the portal posts the event to n8n',
					result.instant,
					false,
				),
				latencyRow(
					"(d) n8n's Webhook node -> Send Message",
					'a plain JSON POST 1-2 s after each reply (n8n itself, the baseline)',
					result.webhook,
					false,
				),
			],
		),
		'',
	);

	const windowH = result.idleWindowMs / 3_600_000;
	out.push(
		`**2. Idle cost**: imbot.v2.Event.get calls per bot in ${seconds(result.idleWindowMs)} with no customer ` +
			`message (all six workflows active, before any message), scaled to an hour; the budget is ${rate} ` +
			`requests/s = ${thousands(budgetPerHour)} per hour. ${result.idleRequests} REST calls in all reached the ` +
			`portal in that window. Mean gap between a reliable bot's reads: ${(result.idleCycleMs / 1000).toFixed(3)} s ` +
			`idle (pace ${idleIntervalMs / 1000} s), ${(result.conversationCycleMs / 1000).toFixed(3)} s in the ` +
			`conversation (pace ${conversationIntervalMs / 1000} s).`,
		'',
	);
	const idleRows = result.idle.map((count) => {
		const perHour = count.reads / windowH;
		return [
			count.label + (count.bots > 1 ? ` (mean of ${count.bots} bots)` : ''),
			count.reads.toFixed(count.bots > 1 ? 1 : 0),
			thousands(Math.round(perHour)),
			`${((perHour / budgetPerHour) * 100).toFixed(1)} %`,
			count.kind === 'reliable'
				? `pace ${idleIntervalMs / 1000} s (a tenth of ${rate}/s); ${conversationIntervalMs / 1000} s for 60 s after an event`
				: count.kind === 'instant'
					? 'Bitrix24 posts to n8n; nothing read'
					: "n8n's schedule: one read per poll",
		];
	});
	out.push(
		markdownTable(
			[
				'Mode',
				`Event.get in ${Math.round(result.idleWindowMs / 1000)} s`,
				'Per hour',
				`Share of ${thousands(budgetPerHour)}/h`,
				'Why',
			],
			idleRows,
		),
		'',
	);

	const reliableSamples = [...result.conversation, ...result.quiet];
	const overheadSamples = overheads(reliableSamples);
	const extraMs = result.idleCycleMs - idleIntervalMs;
	const measuredP95 = (intervalMs: number) =>
		intervalMs === idleIntervalMs
			? s2(percentile(latencies(result.quiet), 95))
			: intervalMs === conversationIntervalMs
				? s2(percentile(latencies(result.conversation), 95))
				: '';
	out.push(
		`**3. Another pace (computed, not measured)**: a message waits for the next read, uniformly within one cycle ` +
			`(the interval + ${Math.round(extraMs)} ms, the measured idle cycle beyond its ${idleIntervalMs / 1000} s), then ` +
			`takes one of the ${overheadSamples.length} measured read -> reply times of rows (a) and (b) (p50 ` +
			`${s2(percentile(overheadSamples, 50))}, p95 ${s2(percentile(overheadSamples, 95))}); the latency's quantiles ` +
			`over both. Reads per hour = 3,600 s / cycle, one bot, at ${rate} requests/s.`,
		'',
	);
	const intervals = [1_000, conversationIntervalMs, 2_000, idleIntervalMs, 10_000, 30_000];
	out.push(
		markdownTable(
			[
				'Read interval',
				'Reads per hour',
				`Share of ${thousands(budgetPerHour)}/h`,
				'Customer -> reply p50 / p95 (computed)',
				'Measured p95',
			],
			intervals.map((intervalMs) => {
				const perHour = 3_600_000 / (intervalMs + extraMs);
				const { p50, p95 } = modelled(intervalMs, extraMs, overheadSamples);
				const chosen =
					intervalMs === idleIntervalMs
						? ' (idle, chosen)'
						: intervalMs === conversationIntervalMs
							? ' (conversation, chosen)'
							: '';
				return [
					`${intervalMs / 1000} s${chosen}`,
					thousands(Math.round(perHour)),
					`${((perHour / budgetPerHour) * 100).toFixed(1)} %`,
					`${s2(p50)} / ${s2(p95)}`,
					measuredP95(intervalMs),
				];
			}),
		),
		'',
	);
	return out.join('\n');
}
