/**
 * Fairness rows of `npm run bench`: a bulk execution and one-item executions on the SAME credential, in one
 * process (n8n's WorkflowExecute, the node's sources and the emulated portal). One one-item execution starts
 * a second after the bulk; then, while the bulk is sending, more start one after another. Each one's latency
 * runs from its start to the portal recording its message. Next to it: what it would wait behind the bulk
 * (the bulk's remaining requests at the budget's rate), which is what one first-come-first-served queue per
 * credential would cost it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import {
	CHATS,
	DEALS,
	LEADS,
	startEmulator,
	USERS,
	type Emulator,
	addCampaignChats,
	FIRST_CAMPAIGN_CHAT,
} from '../../tools/emulator';
import { TestCredentialsHelper } from '../../tools/harness/credentialsHelper';
import {
	MAPPED_PARAMETERS,
	runNode,
	startNode,
	type RunOptions,
} from '../../tools/harness/runWorkflow';
import {
	BATCH_SIZE,
	markdownTable,
	median,
	physicalLimitSeconds,
	seconds,
	thousands,
	type Budget,
} from './measure';

export interface FairnessScenario {
	id: string;
	budget: Budget;
	mode: 'per-item' | 'batch';
	/** Messages of the bulk execution, each to its own chat. */
	items: number;
}

export const FAIRNESS_SCENARIOS: FairnessScenario[] = [
	// 1,000 requests at 20/s: about 48 s of sending.
	{
		id: 'fairness-per-item-1000',
		budget: { burstLimit: 50, requestsPerSecond: 20 },
		mode: 'per-item',
		items: 1_000,
	},
	// 200 batch calls at 5/s: 30 s of sending, after n8n's parameter resolution of 10,000 items.
	{
		id: 'fairness-batch-10000',
		budget: { burstLimit: 50, requestsPerSecond: 5 },
		mode: 'batch',
		items: 10_000,
	},
];

/** The first one-item execution starts this long after the bulk execution. */
const EARLY_PROBE_MS = 1_000;
/** The next ones start from this long after the bulk's first message was recorded. */
const FIRST_PROBE_MS = 1_000;
/** Pause between one one-item execution's end and the next one's start. */
const PROBE_INTERVAL_MS = 4_000;
/** No new one-item execution once the bulk has less than this left to send (nothing left to be behind). */
const MIN_REMAINING_MS = 2_000;

const BULK_PREFIX = 'Bench fairness bulk';
/**
 * One chat per bulk message, as a campaign to many customers has. It matters: messages to one chat go one
 * after another (each waits for the previous answer), so a bulk run to one chat never has more than one
 * request waiting for the budget, and the one-item execution would be next in any queue.
 */
const bulkItems = (scenario: FairnessScenario): IDataObject[] =>
	Array.from({ length: scenario.items }, (_, index) => ({
		type: 'lead',
		entityId: LEADS.WEBSITE_INQUIRY,
		sender: USERS.OLEG_OPERATOR,
		chat: FIRST_CAMPAIGN_CHAT + index,
		text: `${BULK_PREFIX}: notification #${index + 1}`,
	}));

const OPTIONS: Record<FairnessScenario['mode'], INodeParameters> = {
	'per-item': { sendInBatches: false },
	batch: { sendInBatches: true, batchSize: BATCH_SIZE },
};

/** Requests the bulk needs at best: one per message, or one per batch of 50. */
const requestsFor = (scenario: FairnessScenario, messages: number) =>
	scenario.mode === 'batch' ? Math.ceil(messages / BATCH_SIZE) : messages;

interface Probe {
	/** From the bulk's first message to this execution's start (negative: before it). */
	startedAfterMs: number;
	/** From its start to the portal recording its message; undefined when it was not delivered. */
	latencyMs?: number;
	/** The bulk's requests still to go at its start. */
	bulkRemaining: number;
	/** Its wait behind those: what they need beyond the portal's free room, at the budget's rate. */
	behindMs: number;
}

export interface FairnessResult {
	scenario: FairnessScenario;
	/** The bulk execution, from its start to its end. */
	bulkWallMs: number;
	/** From the bulk's start to its first message recorded (n8n resolves every item's parameters first). */
	bulkFirstMessageMs: number;
	/** Started EARLY_PROBE_MS after the bulk, while n8n was still resolving the bulk's parameters. */
	early: Probe;
	/** Started while the bulk was sending. */
	probes: Probe[];
	/** Bulk messages the portal recorded. */
	bulkDelivered: number;
	/** Every request the portal received, the one-item executions' included. */
	requests: number;
	rejected503: number;
}

const bulkMessages = (emulator: Emulator) =>
	emulator.messages.filter(({ message }) => message.startsWith(BULK_PREFIX));

const bulkDelivered = (emulator: Emulator) => bulkMessages(emulator).length;

/**
 * One one-item execution on the bulk's credential, to the deal's chat (no order ties it to the bulk).
 * `startedAt`: when it was meant to start, if a busy event loop may have delayed the call.
 */
async function probe(
	emulator: Emulator,
	scenario: FairnessScenario,
	credential: RunOptions['credential'],
	credentials: TestCredentialsHelper,
	text: string,
	startedAt = Date.now(),
): Promise<Omit<Probe, 'startedAfterMs'> & { startedAt: number }> {
	const bulkRemaining = requestsFor(scenario, scenario.items - bulkDelivered(emulator));
	const { level, burstLimit, requestsPerSecond } = emulator.state().budget;
	const room = Math.max(0, Math.floor(burstLimit - level));
	await runNode({
		credential,
		credentials,
		items: [
			{
				type: 'deal',
				entityId: DEALS.ORDER_501,
				sender: USERS.OLEG_OPERATOR,
				chat: CHATS.DEAL_TELEGRAM_ACTIVE,
				text,
			},
		],
		parameters: MAPPED_PARAMETERS,
		onError: 'continueErrorOutput',
	});
	const recorded = emulator.messages.find(({ message }) => message === text);
	return {
		startedAt,
		latencyMs: recorded ? recorded.at - startedAt : undefined,
		bulkRemaining,
		behindMs: (Math.max(0, bulkRemaining - room) / requestsPerSecond) * 1000,
	};
}

async function until(condition: () => boolean): Promise<void> {
	while (!condition()) await sleep(10);
}

export async function runFairness(scenario: FairnessScenario): Promise<FairnessResult> {
	const emulator = await startEmulator(scenario.budget);
	try {
		addCampaignChats(emulator.world, scenario.items);
		// One credential store for all executions: the node keeps one budget per credential, as in n8n.
		const credentials = new TestCredentialsHelper();
		const credential: RunOptions['credential'] = {
			type: 'bitrix24WebhookApi',
			data: { webhookUrl: emulator.webhookUrl, ...scenario.budget },
		};
		const started = Date.now();
		const bulk = startNode({
			credential,
			credentials,
			items: bulkItems(scenario),
			parameters: { ...MAPPED_PARAMETERS, options: OPTIONS[scenario.mode] },
			onError: 'continueErrorOutput',
		});
		let bulkEndedAt: number | undefined;
		const bulkEnded = bulk.finished.then((run) => {
			bulkEndedAt = Date.now();
			return run;
		});

		// n8n resolves every item's parameters before the bulk's first request, in one stretch of promise
		// callbacks: timers wait for it, so this execution starts when it ends and its latency counts it.
		const early = sleep(EARLY_PROBE_MS).then(async () => {
			const text = 'Bench fairness: one-item execution #0';
			return await probe(
				emulator,
				scenario,
				credential,
				credentials,
				text,
				started + EARLY_PROBE_MS,
			);
		});
		await until(() => bulkDelivered(emulator) > 0 || bulkEndedAt !== undefined);
		const firstMessageAt = bulkMessages(emulator)[0]?.at ?? Date.now();
		const since = <T extends { startedAt: number }>({ startedAt, ...rest }: T) => ({
			...rest,
			startedAfterMs: startedAt - firstMessageAt,
		});
		const earlyProbe = since(await early);

		// The others while the bulk sends: its requests all wait for the budget then.
		const probes: Probe[] = [];
		await Promise.race([
			sleep(Math.max(0, firstMessageAt + FIRST_PROBE_MS - Date.now())),
			bulkEnded,
		]);
		const leftMs = () =>
			(requestsFor(scenario, scenario.items - bulkDelivered(emulator)) /
				scenario.budget.requestsPerSecond) *
			1000;
		while (bulkEndedAt === undefined && leftMs() > MIN_REMAINING_MS) {
			const text = `Bench fairness: one-item execution #${probes.length + 1}`;
			probes.push(since(await probe(emulator, scenario, credential, credentials, text)));
			await Promise.race([sleep(PROBE_INTERVAL_MS), bulkEnded]);
		}

		await bulkEnded;
		return {
			scenario,
			bulkWallMs: (bulkEndedAt ?? Date.now()) - started,
			bulkFirstMessageMs: firstMessageAt - started,
			early: earlyProbe,
			probes,
			bulkDelivered: bulkDelivered(emulator),
			requests: emulator.requests.length,
			rejected503: emulator.state().rejected503,
		};
	} finally {
		await emulator.close();
	}
}

const milliseconds = (ms: number) => `${thousands(Math.round(ms))} ms`;

const MODE_LABEL: Record<FairnessScenario['mode'], string> = {
	'per-item': 'per item',
	batch: `batches of ${BATCH_SIZE}`,
};

const latencyCell = ({ latencyMs }: Probe) =>
	latencyMs === undefined ? 'not delivered' : milliseconds(latencyMs);

export const FAIRNESS_HEADER = [
	'Run',
	'Budget (burst / rate)',
	'Bulk execution',
	'Bulk: first message / total time',
	'Bulk physical limit',
	`One-item started ${seconds(EARLY_PROBE_MS)} after the bulk: latency`,
	'One-item started while the bulk sends: count, latency median / max',
	'Behind the bulk instead, median (range)',
	'Not delivered (bulk / one-item)',
	'Requests / 503s',
];

export function fairnessRow(result: FairnessResult): string[] {
	const { scenario, early, probes } = result;
	const latencies = probes.flatMap(({ latencyMs }) => (latencyMs === undefined ? [] : [latencyMs]));
	const behind = probes.map(({ behindMs }) => behindMs);
	const range = (values: number[]) =>
		`${seconds(Math.min(...values))} to ${seconds(Math.max(...values))}`;
	const undelivered = [early, ...probes].filter(({ latencyMs }) => latencyMs === undefined).length;
	return [
		'in-process',
		`${scenario.budget.burstLimit} / ${scenario.budget.requestsPerSecond} per s`,
		`${thousands(scenario.items)} messages, ${MODE_LABEL[scenario.mode]}, one chat each`,
		`${seconds(result.bulkFirstMessageMs)} / ${seconds(result.bulkWallMs)}`,
		seconds(physicalLimitSeconds(requestsFor(scenario, scenario.items), scenario.budget) * 1000),
		latencyCell(early),
		latencies.length > 0
			? `${probes.length}: ${milliseconds(median(latencies))} / ${milliseconds(Math.max(...latencies))}`
			: `${probes.length}: n/a`,
		behind.length > 0 ? `${seconds(median(behind))} (${range(behind)})` : 'n/a',
		`${thousands(scenario.items - result.bulkDelivered)} / ${undelivered}`,
		`${thousands(result.requests)} / ${thousands(result.rejected503)}`,
	];
}

/** Each one-item execution: when it started, the bulk's requests left then, its wait behind them, its latency. */
export function fairnessNotes(results: FairnessResult[]): string[] {
	return results.map(({ scenario, early, probes }) => {
		const each = probes
			.map(
				(probe) =>
					`+${seconds(probe.startedAfterMs)}: ${thousands(probe.bulkRemaining)} left, ` +
					`${seconds(probe.behindMs)} behind, ${latencyCell(probe)}`,
			)
			.join('; ');
		return (
			`- ${scenario.id}: the one-item execution meant for ${seconds(EARLY_PROBE_MS)} after the bulk's start ` +
			`(${seconds(-early.startedAfterMs)} before its first message) got its message out in ${latencyCell(early)}; ` +
			`while the bulk sent (time after its first message: requests left, wait behind them, latency): ${each}`
		);
	});
}

export const FAIRNESS_ABOUT =
	'Fairness, in-process: a bulk execution and one-item executions on the same credential (one node-side budget). ' +
	'The bulk sends each message to its own chat (a campaign), so all its requests wait for the budget at once. ' +
	`One one-item execution starts ${seconds(EARLY_PROBE_MS)} after the bulk, while n8n still resolves the bulk's ` +
	'parameters (the first message column shows how long that takes; n8n keeps the event loop meanwhile); more start ' +
	`from ${seconds(FIRST_PROBE_MS)} after the bulk's first message, each ${seconds(PROBE_INTERVAL_MS)} after the ` +
	`previous one ended, while the bulk has more than ${seconds(MIN_REMAINING_MS)} of requests left. Each sends one ` +
	"message to the deal's chat 1500. Latency: from its start to the portal recording its message. Behind the bulk " +
	"instead: the bulk's requests left at that start, minus the portal's free room, divided by the rate (what one " +
	"first-come-first-served queue per credential would cost). Requests include the one-item executions' own.";

export const fairnessTable = (results: FairnessResult[]) =>
	markdownTable(FAIRNESS_HEADER, results.map(fairnessRow));
