/**
 * Queue-mode rows of `npm run bench` (`--only queue`): n8n 2.41.1 in queue mode (tools/n8n/queue.ts: main,
 * N workers, PostgreSQL, Redis) with the packed package, against the emulated portal in this process. One
 * webhook-started workflow is called 3 times at once; each execution sends 400 messages one request each or
 * 2,000 in batches of 5 (each to its own campaign chat, one credential for all), so the executions run side by side on the workers, each worker with
 * its own copy of the budget and nothing shared between them but the portal.
 * `--package <tarball>` installs another build (e.g. the previous pacing's `npm pack`) for a comparison.
 */
import { performance } from 'node:perf_hooks';

import { addCampaignChats, startEmulator, type Emulator } from '../../tools/emulator';
import {
	campaignText,
	campaignWorkflow,
	startCampaigns,
	startQueue,
	type CampaignInput,
} from '../../tools/n8n/queue';
import { parseExecutionData, type JsonObject } from '../../tools/n8n/runner';
import { NODES, webhookCredential } from '../../tools/n8n/workflows';
import {
	deliveryOf,
	markdownTable,
	median,
	physicalLimitSeconds,
	seconds,
	thousands,
	type Budget,
} from './measure';

export interface QueueScenario {
	id: string;
	workers: number;
	mode: 'per-item' | 'batch';
	input: CampaignInput;
	/** Messages per execution. */
	messages: number;
	/** The portal's limit, and the credential's fields (they say the same). */
	budget: Budget;
	/** Messages per batch call in batch mode. */
	batchSize: number;
	/** How many times the row runs, each in fresh n8n processes (short rows vary from run to run). */
	runs: number;
}

/** The x10 standard plan: burst 50, 20 per second (Bitrix24's 2 per second, 10 times faster). */
export const QUEUE_BUDGET = { burstLimit: 50, requestsPerSecond: 20 };
export const EXECUTIONS = 3;
/**
 * Messages per execution: 400 one request each; 2,000 in batches of 5, so that both modes make 1,200 requests
 * (a 57.5 s limit). 3 x 400 in batches of 5 would be 240 calls, a 9.5 s limit that n8n's own start of each
 * execution outweighs; batches of 50 would fit in the burst.
 */
const MESSAGES_PER_MODE: Record<QueueScenario['mode'], number> = { 'per-item': 400, batch: 2_000 };
export const QUEUE_BATCH_SIZE = 5;

const LONG_SCENARIOS: QueueScenario[] = [2, 4, 8].flatMap((workers) =>
	(['per-item', 'batch'] as const).flatMap((mode) =>
		(['expressions', 'fields'] as const).map((input) => ({
			id: `queue-${workers}-workers-${mode}-${input}`,
			workers,
			mode,
			input,
			messages: MESSAGES_PER_MODE[mode],
			budget: QUEUE_BUDGET,
			batchSize: QUEUE_BATCH_SIZE,
			runs: 1,
		})),
	),
);

/**
 * Short campaigns, as most users send them (`--only queue-short`, about 40 minutes): 3 x 50 messages one request
 * each against a portal of burst 10 and 10 per second (a 14 s limit), 3 x 1,000 in batches of 50 against burst 10
 * and 2 per second (60 calls, a 25 s limit), five expressions per item; 1, 2 and 4 workers, three runs each; and
 * 3 x 150 one request each once with 1 and 2 workers; the batched rows again with Take From Input Fields.
 */
const shortPerItem = (
	workers: number,
	messages: number,
	runs: number,
	suffix = '',
): QueueScenario => ({
	id: `queue-short-${workers}-workers-per-item${suffix}`,
	workers,
	mode: 'per-item',
	input: 'expressions',
	messages,
	budget: { burstLimit: 10, requestsPerSecond: 10 },
	batchSize: QUEUE_BATCH_SIZE,
	runs,
});

const shortBatch = (workers: number, input: CampaignInput): QueueScenario => ({
	id: `queue-short-${workers}-workers-batch${input === 'fields' ? '-fields' : ''}`,
	workers,
	mode: 'batch',
	input,
	messages: 1_000,
	budget: { burstLimit: 10, requestsPerSecond: 2 },
	batchSize: 50,
	runs: 3,
});

const SHORT_SCENARIOS: QueueScenario[] = [
	...[1, 2, 4].flatMap((workers) => [
		shortPerItem(workers, 50, 3),
		shortBatch(workers, 'expressions'),
	]),
	// The batched rows without expressions: n8n's evaluation of 1,000 items' expressions blocks a worker's event
	// loop for seconds, during which no request can leave; Take From Input Fields has none.
	...[1, 2, 4].map((workers) => shortBatch(workers, 'fields')),
	...[1, 2].map((workers) => shortPerItem(workers, 150, 1, '-150')),
];

export const QUEUE_SCENARIOS: QueueScenario[] = [...LONG_SCENARIOS, ...SHORT_SCENARIOS];

const WORKFLOW_ID = 'b24QueueBench';
const WEBHOOK_PATH = 'bitrix24-queue-bench';

export interface QueueResult {
	scenario: QueueScenario;
	/** Which build ran: "this branch" or the tarball's name. */
	build: string;
	/** From the webhook calls to the last message recorded. */
	wallMs: number;
	/** From the webhook calls to the first request reaching the portal (n8n's work before sending). */
	firstRequestMs: number;
	requests: number;
	rejected503: number;
	delivered: number;
	duplicates: number;
	/** Items on the node's error output, by code. */
	failed: Map<string, number>;
	statuses: string[];
	/** Executions per worker, e.g. "2 + 1". */
	spread: string;
	/** Per second from the first request: messages posted per execution, and requests refused (`--timeline`). */
	timeline: string;
}

const requestsNeeded = ({ mode, messages, batchSize }: QueueScenario) =>
	EXECUTIONS * (mode === 'batch' ? Math.ceil(messages / batchSize) : messages);

export async function runQueue(
	scenario: QueueScenario,
	options: { tarball?: string; log?: (line: string) => void } = {},
): Promise<QueueResult> {
	const log = options.log ?? (() => undefined);
	const emulator: Emulator = await startEmulator(scenario.budget);
	try {
		const { messages } = scenario;
		addCampaignChats(emulator.world, EXECUTIONS * messages);
		const credential = { id: 'b24QueueBench', name: 'Bitrix24 webhook (queue bench)' };
		const workflow = campaignWorkflow({
			id: WORKFLOW_ID,
			path: WEBHOOK_PATH,
			credential,
			messages,
			input: scenario.input,
			options:
				scenario.mode === 'batch'
					? { sendInBatches: true, batchSize: scenario.batchSize }
					: { sendInBatches: false },
		});
		const queue = await startQueue(
			{ workers: scenario.workers, name: 'bench-queue', tarball: options.tarball, log },
			async (session) => {
				await session.importCredentials([
					webhookCredential(credential, emulator.webhookUrl, scenario.budget),
				]);
				await session.importWorkflows([workflow as unknown as JsonObject]);
				await session.command(['publish:workflow', `--id=${WORKFLOW_ID}`]);
			},
		);
		try {
			const startedAt = Date.now();
			const started = performance.now();
			await startCampaigns(queue.baseUrl, WEBHOOK_PATH, EXECUTIONS);
			const deadline = Date.now() + 10 * 60_000;
			let rows: string[] = [];
			for (;;) {
				rows = queue.sql(
					`select id, status from execution_entity where status in ('success','error','crashed','canceled') order by id`,
				);
				if (rows.length >= EXECUTIONS) break;
				if (Date.now() > deadline) throw new Error(`Executions did not end: ${rows.join(', ')}`);
				await new Promise((resolve) => setTimeout(resolve, 1000));
			}
			const wallEnd = Math.max(...emulator.messages.map((message) => message.at));
			const failed = new Map<string, number>();
			for (const line of queue.sql(`select data from execution_data`)) {
				const data = parseExecutionData(queue.installed, line);
				const runs = data.resultData.runData[NODES.bitrix24] ?? [];
				for (const item of runs[0]?.data?.main?.[1] ?? []) {
					const code = String((item.json.details as JsonObject | undefined)?.code ?? 'UNKNOWN');
					failed.set(code, (failed.get(code) ?? 0) + 1);
				}
			}
			const byWorker = queue.executionsByWorker();
			const counts = queue.workers.map(
				(worker) => [...byWorker.values()].filter((index) => index === worker.index).length,
			);
			const texts = Array.from({ length: EXECUTIONS }, (_, execution) =>
				Array.from({ length: messages }, (__, index) => campaignText(execution, index)),
			).flat();
			const { delivered, duplicates, stray } = deliveryOf(texts, emulator.messages);
			return {
				scenario,
				build: options.tarball ? (options.tarball.split('/').pop() ?? '') : 'this branch',
				wallMs: wallEnd > 0 ? wallEnd - startedAt : performance.now() - started,
				firstRequestMs: (emulator.requests[0]?.at ?? startedAt) - startedAt,
				requests: emulator.requests.length,
				rejected503: emulator.state().rejected503,
				delivered,
				duplicates: duplicates + stray,
				failed,
				statuses: rows.map((row) => row.split('|')[1] ?? ''),
				timeline: timelineOf(emulator),
				spread: counts.filter((count) => count > 0).join(' + ') || 'unknown',
			};
		} finally {
			await queue.stop({ keep: process.env.N8N_E2E_KEEP === '1' });
		}
	} finally {
		await emulator.close();
	}
}

export const QUEUE_ABOUT =
	`Queue mode: n8n 2.41.1 (\`n8n start\` + \`n8n worker\` processes, PostgreSQL 15 and Redis 7 from Debian), ` +
	`the packed package in their shared user folder; one webhook-started workflow called ${EXECUTIONS} times at once, ` +
	`each execution ${MESSAGES_PER_MODE['per-item']} messages one request each or ${MESSAGES_PER_MODE.batch} in batches of ` +
	`${QUEUE_BATCH_SIZE}, each message to its own chat, one credential; portal and credential at burst ` +
	`${QUEUE_BUDGET.burstLimit}, ${QUEUE_BUDGET.requestsPerSecond} per second (the standard plan x10). Input: five ` +
	'expressions per item, or Take From Input Fields (none). Wall time from the webhook calls to the last ' +
	'message; limit = (requests - burst) ' +
	'/ rate; "sending" ratio counts from the first request (n8n prepares every item before it).';

export function queueTable(results: QueueResult[]): string {
	return markdownTable(
		[
			'Build',
			'Workers (executions each)',
			'Mode',
			'Input',
			'Delivered',
			'Failed',
			'Duplicated',
			'Requests / 503s (share)',
			'First request / wall time',
			'Physical limit',
			'Ratio: from webhooks / sending',
		],
		results.map((result) => {
			const { scenario } = result;
			const limit = limitSeconds(scenario);
			const failed = [...result.failed.values()].reduce((sum, count) => sum + count, 0);
			const codes = [...result.failed].map(([code, count]) => `${code} x${count}`).join(', ');
			return [
				result.build,
				`${scenario.workers} (${result.spread})`,
				scenario.mode === 'batch' ? `batches of ${scenario.batchSize}` : 'per item',
				scenario.input === 'fields' ? 'Take From Input Fields' : 'five expressions',
				`${thousands(result.delivered)} of ${thousands(EXECUTIONS * scenario.messages)}`,
				failed > 0 ? `${failed} (${codes})` : '0',
				thousands(result.duplicates),
				`${thousands(result.requests)} / ${thousands(result.rejected503)} (${((100 * result.rejected503) / Math.max(1, result.requests)).toFixed(1)}%)`,
				`${seconds(result.firstRequestMs)} / ${seconds(result.wallMs)}`,
				seconds(limit * 1000),
				`${(limit / (result.wallMs / 1000)).toFixed(3)} / ${(limit / ((result.wallMs - result.firstRequestMs) / 1000)).toFixed(3)}`,
			];
		}),
	);
}

const limitSeconds = (scenario: QueueScenario) =>
	physicalLimitSeconds(requestsNeeded(scenario), scenario.budget);

/** The ratio to the portal's limit counted from the first request, as the short rows' goal does. */
export const sendingRatio = (result: QueueResult) =>
	limitSeconds(result.scenario) / ((result.wallMs - result.firstRequestMs) / 1000);

/** A row run several times: its median and worst ratio from the first request, and the most it had refused. */
export function queueRepeatsTable(results: QueueResult[]): string {
	const byScenario = new Map<string, QueueResult[]>();
	for (const result of results) {
		const runs = byScenario.get(result.scenario.id) ?? [];
		runs.push(result);
		byScenario.set(result.scenario.id, runs);
	}
	return markdownTable(
		[
			'Workers',
			'Run',
			'Portal (burst, per second)',
			'Runs',
			'Delivered / failed / duplicated (all runs)',
			'Refused, worst run',
			'Time from the first request, median / worst',
			'Limit',
			'Ratio, median / worst',
		],
		[...byScenario.values()].map((runs) => {
			const { scenario } = runs[0];
			const ratios = runs.map(sendingRatio);
			const times = runs.map((run) => run.wallMs - run.firstRequestMs);
			const failed = runs.reduce(
				(sum, run) => sum + [...run.failed.values()].reduce((a, b) => a + b, 0),
				0,
			);
			const refused = runs.map((run) => run.rejected503 / Math.max(1, run.requests));
			const worst = runs[refused.indexOf(Math.max(...refused))];
			return [
				String(scenario.workers),
				`${scenario.mode === 'batch' ? `batched (${scenario.batchSize})` : 'per item'}, ${EXECUTIONS} x ${thousands(scenario.messages)}, ${scenario.input === 'fields' ? 'Take From Input Fields' : 'five expressions'}`,
				`${scenario.budget.burstLimit}, ${scenario.budget.requestsPerSecond}`,
				String(runs.length),
				`${thousands(runs.reduce((sum, run) => sum + run.delivered, 0))} of ${thousands(runs.length * EXECUTIONS * scenario.messages)} / ${failed} / ${runs.reduce((sum, run) => sum + run.duplicates, 0)}`,
				`${worst.rejected503} / ${worst.requests} (${(100 * Math.max(...refused)).toFixed(1)}%)`,
				`${seconds(median(times))} / ${seconds(Math.max(...times))}`,
				seconds(limitSeconds(scenario) * 1000),
				`${median(ratios).toFixed(2)} / ${Math.min(...ratios).toFixed(2)}`,
			];
		}),
	);
}

/**
 * Second by second from the first request, "messages posted by execution 0 / 1 / 2, refused": where a run lost its
 * time (an execution waiting, a worker slow to take the rate back after the others ended).
 */
function timelineOf(emulator: Emulator): string {
	const first = emulator.requests[0]?.at;
	if (first === undefined) return '';
	const second = (at: number) => Math.floor((at - first) / 1000);
	const seconds: Array<{ posted: number[]; refused: number }> = [];
	const at = (index: number) =>
		(seconds[index] ??= { posted: Array(EXECUTIONS).fill(0), refused: 0 });
	for (const message of emulator.messages) {
		const execution = Number(/^Campaign execution (\d+):/.exec(message.message)?.[1]);
		if (Number.isInteger(execution)) at(second(message.at)).posted[execution] += 1;
	}
	for (const request of emulator.requests)
		if (request.status === 503) at(second(request.at)).refused += 1;
	return Array.from(seconds, (entry, index) => {
		const { posted, refused } = entry ?? { posted: Array(EXECUTIONS).fill(0), refused: 0 };
		return `${index}s ${posted.join('/')}${refused > 0 ? ` (${refused} refused)` : ''}`;
	}).join(', ');
}
