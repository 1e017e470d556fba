/**
 * `npm run bench`: how fast the node delivers mass notifications within a Bitrix24 portal's request
 * budget, next to a naive sender. Each scenario starts the emulated portal (a real HTTP server on
 * 127.0.0.1 with a real leaky bucket) with a budget, runs N items through the node in n8n's real engine
 * (WorkflowExecute -> RoutingNode, the node's sources), and reads what the portal recorded.
 * Prints a markdown table, then PASS/WARN lines for the issue's success criteria (not asserted). Then two
 * in-process measurements of sharing: fairness between executions on one credential (bench/fairness.ts)
 * and the cost of keeping messages to one chat in order (bench/order.ts), each a table of its own.
 * Options: `--only <text>[,<text>...]` runs the rows whose id contains one of the texts (e.g. `fairness,order`);
 * `--list` lists them; `--expression-engine vm|legacy` sets n8n's expression engine for the real-n8n and bot rows
 * (default: n8n's own, `vm` in 2.x); `--package <tarball>` installs another build in the queue-mode rows, and
 * `--timeline` prints each queue-mode run second by second;
 * `--seed <n>` and `--runs <n>` replay a fuzz row (bench/fuzz.ts), which otherwise takes a random seed.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { startEmulator, CHATS, LEADS, USERS, type Emulator } from '../tools/emulator';
import { MAPPED_PARAMETERS, runNode } from '../tools/harness/runWorkflow';
import {
	BATCH_SIZE,
	collectGarbage,
	deliveryOf,
	markdownTable,
	physicalLimitSeconds,
	sampleMemory,
	seconds,
	thousands,
	type Budget,
	type MemoryPeak,
} from './bench/measure';
import {
	FAIRNESS_ABOUT,
	FAIRNESS_SCENARIOS,
	fairnessNotes,
	fairnessTable,
	runFairness,
	type FairnessResult,
} from './bench/fairness';
import {
	ORDER_ABOUT,
	ORDER_SCENARIOS,
	orderNotes,
	orderTable,
	runOrder,
	type OrderResult,
} from './bench/order';
import {
	REAL_N8N_ABOUT,
	REAL_N8N_HEADER,
	REAL_N8N_ONE_ITEM,
	REAL_N8N_SCENARIOS,
	realN8nRows,
	realN8nVerdicts,
	runRealN8n,
} from './bench/realN8n';
import {
	QUEUE_ABOUT,
	QUEUE_SCENARIOS,
	queueRepeatsTable,
	queueTable,
	runQueue,
	type QueueResult,
} from './bench/queue';
import {
	BOT_LOOP_ABOUT,
	BOT_LOOP_SCENARIOS,
	botLoopTable,
	runBotLoop,
	type BotLoopScenario,
} from './bench/botLoop';
import { runTriggerModes, TRIGGER_MODES_SCENARIOS, triggerModesReport } from './bench/triggerModes';
import {
	FUZZ_ABOUT,
	FUZZ_SCENARIOS,
	fuzzFailures,
	fuzzTable,
	randomSeed,
	runFuzz,
	type FuzzResult,
} from './bench/fuzz';
import { runWhenStarted } from '../tools/runWhenStarted';

type Mode = 'per-item' | 'batch' | 'naive';

interface Profile {
	label: string;
	budget: Budget;
	/** The plan's real budget, for a profile scaled in time. */
	realTime?: Profile;
}

interface Stall {
	afterRequests: number;
	ms: number;
	sliceMs: number;
}

interface Scenario {
	id: string;
	profile: Profile;
	mode: Mode;
	items: number;
	/** Input: Take From Input Fields instead of five expressions (MAPPED_PARAMETERS). */
	fromInputFields?: boolean;
	/**
	 * Keeps this process's event loop busy for `ms` once the portal has `afterRequests` requests, in slices of
	 * `sliceMs` with a few milliseconds free between them (as n8n preparing another execution's items does).
	 */
	stall?: Stall;
}

const STANDARD: Profile = {
	label: 'Standard 50 / 2 per s (real time)',
	budget: { burstLimit: 50, requestsPerSecond: 2 },
};
const STANDARD_X10: Profile = {
	label: 'Standard x10: 50 / 20 per s',
	budget: { burstLimit: 50, requestsPerSecond: 20 },
	realTime: STANDARD,
};
const ENTERPRISE: Profile = {
	label: 'Enterprise 250 / 5 per s (real time)',
	budget: { burstLimit: 250, requestsPerSecond: 5 },
};
const ENTERPRISE_X10: Profile = {
	label: 'Enterprise x10: 250 / 50 per s',
	budget: { burstLimit: 250, requestsPerSecond: 50 },
	realTime: ENTERPRISE,
};

const SCALING =
	'Scaling: "x10" profiles keep the burst and drain 10 times faster (a x10 time scale), so runs that would take ' +
	'minutes at the real rate stay short; their physical limit is computed on the scaled rate. Rows marked "real time" ' +
	"use the plan's real budget. Per item: one imopenlines.crm.message.add request per message; batch: `batch` calls " +
	'of 50 (one request each against the limit); naive: all N requests at once with plain fetch and Promise.all, no pacing.';

const SCENARIOS: Scenario[] = [
	{ id: 'standard-per-item-100', profile: STANDARD, mode: 'per-item', items: 100 },
	{ id: 'standard-batch-100', profile: STANDARD, mode: 'batch', items: 100 },
	{ id: 'standard-naive-100', profile: STANDARD, mode: 'naive', items: 100 },
	{ id: 'standard-x10-per-item-1000', profile: STANDARD_X10, mode: 'per-item', items: 1_000 },
	{ id: 'standard-x10-batch-1000', profile: STANDARD_X10, mode: 'batch', items: 1_000 },
	{ id: 'standard-x10-batch-10000', profile: STANDARD_X10, mode: 'batch', items: 10_000 },
	{ id: 'standard-x10-naive-1000', profile: STANDARD_X10, mode: 'naive', items: 1_000 },
	{ id: 'enterprise-per-item-500', profile: ENTERPRISE, mode: 'per-item', items: 500 },
	{ id: 'enterprise-naive-500', profile: ENTERPRISE, mode: 'naive', items: 500 },
	{ id: 'enterprise-batch-10000', profile: ENTERPRISE, mode: 'batch', items: 10_000 },
	{
		id: 'enterprise-batch-10000-input-fields',
		profile: ENTERPRISE,
		mode: 'batch',
		items: 10_000,
		fromInputFields: true,
	},
	{ id: 'enterprise-x10-per-item-1000', profile: ENTERPRISE_X10, mode: 'per-item', items: 1_000 },
	{ id: 'enterprise-x10-naive-1000', profile: ENTERPRISE_X10, mode: 'naive', items: 1_000 },
	// The portal drains while n8n's event loop is blocked: afterwards the node should spend what it refilled.
	{
		id: 'stall-per-item-150',
		profile: {
			label: 'Short run: 10 / 10 per s, a 3 s stall',
			budget: { burstLimit: 10, requestsPerSecond: 10 },
		},
		mode: 'per-item',
		items: 150,
		stall: { afterRequests: 5, ms: 3000, sliceMs: 100 },
	},
];

const MODE_LABEL: Record<Mode, string> = {
	'per-item': 'node, per item',
	batch: `node, batch of ${BATCH_SIZE}`,
	naive: 'naive sender',
};

const OPTIONS: Record<Exclude<Mode, 'naive'>, INodeParameters> = {
	'per-item': { sendInBatches: false },
	batch: { sendInBatches: true, batchSize: BATCH_SIZE },
};

interface Outcome {
	/** Items the sender reports as failed (error output, or a non-success answer for the naive sender). */
	failed: number;
	/** Items that came out of neither output (should be 0). */
	lost: number;
	/** Failure codes and how often they occurred. */
	codes: Map<string, number>;
	/** The execution's error, if the workflow stopped. */
	error?: string;
}

interface Result {
	scenario: Scenario;
	wallMs: number;
	requests: number;
	rejected503: number;
	delivered: number;
	duplicates: number;
	stray: number;
	outcome: Outcome;
	memory: MemoryPeak;
	/** From the start of the run to the first request reaching the portal (n8n's per-item work comes first). */
	firstRequestMs?: number;
}

const tally = (codes: Map<string, number>, code: string) =>
	codes.set(code, (codes.get(code) ?? 0) + 1);

/** The item under Take From Input Fields' default field names. */
const asInputFields = (item: IDataObject): IDataObject => ({
	crmEntityType: item.type,
	crmEntityId: item.entityId,
	userId: item.sender,
	chatId: item.chat,
	message: item.text,
});

async function runThroughNode(
	scenario: Scenario,
	emulator: Emulator,
	items: IDataObject[],
): Promise<Outcome> {
	const { outputs, error } = await runNode({
		credential: {
			type: 'bitrix24WebhookApi',
			data: { webhookUrl: emulator.webhookUrl, ...scenario.profile.budget },
		},
		items: scenario.fromInputFields ? items.map(asInputFields) : items,
		parameters: {
			...(scenario.fromInputFields ? { input: 'inputFields' } : MAPPED_PARAMETERS),
			options: OPTIONS[scenario.mode as Exclude<Mode, 'naive'>],
		},
		onError: 'continueErrorOutput',
	});
	const [sent = [], failed = []] = outputs;
	const codes = new Map<string, number>();
	for (const item of failed)
		tally(codes, String((item.json.details as IDataObject | undefined)?.code ?? 'UNKNOWN'));
	return {
		failed: failed.length,
		lost: items.length - sent.length - failed.length,
		codes,
		error: error?.message,
	};
}

/** What n8n's plain declarative engine or an HTTP Request node does: every item's request at once. */
async function runNaive(emulator: Emulator, items: IDataObject[]): Promise<Outcome> {
	const url = `${emulator.webhookUrl}imopenlines.crm.message.add.json`;
	const answers = await Promise.all(
		items.map(async (item) => {
			try {
				const response = await fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({
						CRM_ENTITY_TYPE: item.type,
						CRM_ENTITY: item.entityId,
						USER_ID: item.sender,
						CHAT_ID: item.chat,
						MESSAGE: item.text,
					}),
				});
				const body = (await response.json().catch(() => ({}))) as {
					result?: unknown;
					error?: string;
				};
				return response.ok && body.result !== undefined
					? undefined
					: (body.error ?? `HTTP ${response.status}`);
			} catch (error) {
				const cause = (error as { cause?: { code?: string } }).cause;
				return cause?.code ?? 'NETWORK_ERROR';
			}
		}),
	);
	const codes = new Map<string, number>();
	for (const code of answers) if (code !== undefined) tally(codes, code);
	return { failed: answers.filter((code) => code !== undefined).length, lost: 0, codes };
}

async function runScenario(scenario: Scenario): Promise<Result> {
	collectGarbage();
	const stopSampling = sampleMemory();
	const emulator = await startEmulator(scenario.profile.budget);
	try {
		const items: IDataObject[] = Array.from({ length: scenario.items }, (_, index) => ({
			type: 'lead',
			entityId: LEADS.WEBSITE_INQUIRY,
			sender: USERS.OLEG_OPERATOR,
			chat: CHATS.LEAD_TELEGRAM_ACTIVE,
			text: `Bench ${scenario.id}: notification #${index + 1}`,
		}));
		const startedAt = Date.now();
		const started = performance.now();
		const stall = scenario.stall && blockEventLoopAfter(emulator, scenario.stall);
		const outcome =
			scenario.mode === 'naive'
				? await runNaive(emulator, items)
				: await runThroughNode(scenario, emulator, items);
		const wallMs = performance.now() - started;
		if (stall) clearInterval(stall);
		const { delivered, duplicates, stray } = deliveryOf(
			items.map((item) => item.text as string),
			emulator.messages,
		);
		return {
			scenario,
			wallMs,
			requests: emulator.requests.length,
			rejected503: emulator.state().rejected503,
			delivered,
			duplicates,
			stray,
			outcome,
			memory: stopSampling(),
			firstRequestMs:
				emulator.requests.length > 0 ? emulator.requests[0].at - startedAt : undefined,
		};
	} finally {
		await emulator.close();
	}
}

/** See Scenario.stall; the portal is checked every 2 ms. */
function blockEventLoopAfter(emulator: Emulator, { afterRequests, ms, sliceMs }: Stall) {
	let busyUntil: number | undefined;
	const timer = setInterval(() => {
		if (busyUntil === undefined) {
			if (emulator.requests.length < afterRequests) return;
			busyUntil = performance.now() + ms;
		}
		const sliceEnd = Math.min(busyUntil, performance.now() + sliceMs);
		while (performance.now() < sliceEnd);
		if (performance.now() >= busyUntil) clearInterval(timer);
	}, 2);
	return timer;
}

/** Requests the sender needs at best: one per item, or one per batch of 50. */
const requestsNeeded = ({ mode, items }: Scenario) =>
	mode === 'batch' ? Math.ceil(items / BATCH_SIZE) : items;

/** The portal's limit; a stall adds its length, less the burst the portal refilled meanwhile. */
function limitSeconds(scenario: Scenario): number {
	const { budget } = scenario.profile;
	const limit = physicalLimitSeconds(requestsNeeded(scenario), budget);
	if (!scenario.stall) return limit;
	const stallSeconds = scenario.stall.ms / 1000;
	const refilled = Math.min(budget.burstLimit, stallSeconds * budget.requestsPerSecond);
	return limit + stallSeconds - refilled / budget.requestsPerSecond;
}

const messagesPerSecond = (result: Result) => result.delivered / (result.wallMs / 1000);

function ratioCell(result: Result): string {
	const limit = limitSeconds(result.scenario);
	if (result.delivered < result.scenario.items) {
		return `n/a (${thousands(result.scenario.items - result.delivered)} not delivered)`;
	}
	if (limit === 0) return 'n/a (within burst)';
	return (limit / (result.wallMs / 1000)).toFixed(3);
}

function row(result: Result): string[] {
	const { scenario, outcome, memory } = result;
	const limit = limitSeconds(scenario);
	const failed =
		outcome.lost > 0
			? `${thousands(outcome.failed)} (+${outcome.lost} lost)`
			: thousands(outcome.failed);
	return [
		scenario.profile.label,
		MODE_LABEL[scenario.mode] + (scenario.fromInputFields ? ', Take From Input Fields' : ''),
		thousands(scenario.items),
		seconds(result.wallMs),
		messagesPerSecond(result).toFixed(1),
		thousands(result.requests),
		thousands(result.rejected503),
		failed,
		thousands(result.duplicates + result.stray),
		limit === 0 ? '0 s' : seconds(limit * 1000),
		ratioCell(result),
		`${memory.rssMb} / ${memory.heapUsedMb}`,
	];
}

const HEADER = [
	'Profile (burst / rate)',
	'Mode',
	'Items',
	'Wall time',
	'Messages/s',
	'Requests sent',
	'503s received',
	'Items failed',
	'Duplicates',
	'Physical limit',
	'Ratio to limit',
	'Peak RSS / heap used (MB)',
];

function clean(result: Result): boolean {
	const { outcome } = result;
	return (
		outcome.failed === 0 &&
		outcome.lost === 0 &&
		result.duplicates === 0 &&
		result.stray === 0 &&
		!outcome.error
	);
}

function verdicts(results: Result[]): string[] {
	const lines: string[] = [];
	const verdict = (ok: boolean, text: string) => lines.push(`${ok ? 'PASS' : 'WARN'} ${text}`);
	for (const result of results.filter(({ scenario }) => scenario.mode === 'per-item')) {
		const { scenario } = result;
		const limit = limitSeconds(scenario);
		const ratio = limit / (result.wallMs / 1000);
		const name = `per item, ${thousands(scenario.items)} items, ${scenario.profile.label}`;
		if (limit === 0) {
			verdict(
				clean(result),
				`${name}: within burst; ${result.outcome.failed} failed, ${result.duplicates} duplicates`,
			);
			continue;
		}
		verdict(
			ratio >= 0.9 && clean(result),
			`${name}: ${ratio.toFixed(3)} of the physical limit (want >= 0.9), ${result.outcome.failed} failed, ` +
				`${result.outcome.lost} lost, ${result.duplicates} duplicates (want 0)`,
		);
	}
	for (const batch of results.filter(({ scenario }) => scenario.mode === 'batch')) {
		const { scenario } = batch;
		const needed = requestsNeeded(scenario);
		verdict(
			clean(batch),
			`batch, ${thousands(scenario.items)} items, ${scenario.profile.label}: ${batch.outcome.failed} failed, ` +
				`${batch.outcome.lost} lost, ${batch.duplicates} duplicates (want 0); ${batch.requests} requests for ` +
				`ceil(N/50) = ${needed} batches, ${batch.rejected503} of them answered 503 and re-sent`,
		);
		const perItem = results.find(
			(other) =>
				other.scenario.mode === 'per-item' &&
				other.scenario.items === scenario.items &&
				other.scenario.profile === scenario.profile,
		);
		if (perItem && scenario.items === 1_000) {
			const speedup = messagesPerSecond(batch) / messagesPerSecond(perItem);
			verdict(
				speedup > 20,
				`batch vs per item on ${thousands(scenario.items)} items (${scenario.profile.label}): ` +
					`${messagesPerSecond(batch).toFixed(1)} vs ${messagesPerSecond(perItem).toFixed(1)} messages/s = ` +
					`${speedup.toFixed(1)}x (want > 20x)`,
			);
			const real = scenario.profile.realTime;
			if (real && needed <= real.budget.burstLimit) {
				// The batch calls fit in the real burst, so the batch run would take as long at the real rate;
				// per item there, nothing can beat the physical limit.
				const perItemCeiling = scenario.items / physicalLimitSeconds(scenario.items, real.budget);
				lines.push(
					`NOTE at the real budget (${real.label}) per item cannot exceed ${thousands(scenario.items)} / ` +
						`${seconds(physicalLimitSeconds(scenario.items, real.budget) * 1000)} = ${perItemCeiling.toFixed(1)} ` +
						`messages/s, while these ${needed} batch calls still fit in the burst: ` +
						`${(messagesPerSecond(batch) / perItemCeiling).toFixed(0)}x`,
				);
			}
		}
	}
	return lines;
}

function notes(results: Result[]): string[] {
	const lines: string[] = [];
	for (const result of results) {
		const { scenario, outcome } = result;
		const codes = [...outcome.codes]
			.map(([code, count]) => `${code} x${thousands(count)}`)
			.join(', ');
		if (scenario.mode === 'naive') {
			lines.push(
				`- naive, ${thousands(scenario.items)} items, ${scenario.profile.label}: delivered ` +
					`${thousands(result.delivered)} of ${thousands(scenario.items)}; failures: ${codes || 'none'}`,
			);
		} else if (codes || outcome.error) {
			const workflowError = outcome.error ? `; workflow error: ${outcome.error}` : '';
			lines.push(
				`- ${MODE_LABEL[scenario.mode]}, ${thousands(scenario.items)} items: failures: ${codes}${workflowError}`,
			);
		}
		if (scenario.mode !== 'naive' && result.firstRequestMs !== undefined) {
			lines.push(
				`- ${MODE_LABEL[scenario.mode]}, ${thousands(scenario.items)} items, ${scenario.profile.label}: the first ` +
					`request reached the portal ${seconds(result.firstRequestMs)} after the run started (n8n resolving ` +
					`every item's parameters first)` +
					(result.rejected503 > 0
						? `; ${result.rejected503} request(s) answered 503 and re-sent`
						: ''),
			);
		}
		if (scenario.mode === 'per-item' && limitSeconds(scenario) > 0) {
			// The node's pacer keeps one slot of headroom (capacity = burst - 1, shared/pacing.ts).
			const { burstLimit, requestsPerSecond } = scenario.profile.budget;
			const floor = Math.max(0, scenario.items - (burstLimit - 1)) / requestsPerSecond;
			lines.push(
				`- per item, ${thousands(scenario.items)} items, ${scenario.profile.label}: the node's pacer (burst - 1 ` +
					`slots of headroom) cannot finish before ${seconds(floor * 1000)}, i.e. at most ` +
					`${(limitSeconds(scenario) / floor).toFixed(3)} of the limit; measured ${seconds(result.wallMs)}, ` +
					`${seconds(result.wallMs - floor * 1000)} over the pacer's own floor`,
			);
		}
	}
	return lines;
}

const loadAverage = () =>
	os
		.loadavg()
		.map((load) => load.toFixed(2))
		.join(' / ');

function packageVersion(name: string): string {
	const file = path.resolve(__dirname, '..', 'node_modules', name, 'package.json');
	return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Which sources were measured: the commit, and whether the node's files differ from it. */
function sourcesMeasured(): string {
	const git = (...args: string[]) =>
		execFileSync('git', args, {
			cwd: path.resolve(__dirname, '..'),
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'ignore'],
		}).trim();
	try {
		const commit = git('rev-parse', '--short', 'HEAD');
		const dirty = git('status', '--porcelain', '--', 'nodes', 'credentials') !== '';
		return `commit ${commit}${dirty ? ' with uncommitted changes in nodes/ or credentials/' : ''}`;
	} catch {
		return 'not a git checkout';
	}
}

export async function main(argv: string[] = []): Promise<void> {
	const onlyAt = argv.indexOf('--only');
	const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
	if (argv.includes('--list')) {
		for (const { id } of [
			...SCENARIOS,
			...FAIRNESS_SCENARIOS,
			...ORDER_SCENARIOS,
			...REAL_N8N_SCENARIOS,
			...BOT_LOOP_SCENARIOS.filter(({ workflow }) => workflow !== 'polling'),
		])
			console.log(id);
		for (const { id } of BOT_LOOP_SCENARIOS.filter(({ workflow }) => workflow === 'polling'))
			console.log(`${id} (only with --only)`);
		for (const { id } of TRIGGER_MODES_SCENARIOS) console.log(`${id} (only with --only)`);
		for (const { id } of QUEUE_SCENARIOS) console.log(`${id} (only with --only)`);
		for (const { id } of FUZZ_SCENARIOS) console.log(`${id} (only with --only)`);
		return;
	}
	const engineAt = argv.indexOf('--expression-engine');
	const engine = engineAt >= 0 ? argv[engineAt + 1] : undefined;
	if (engine !== undefined && engine !== 'vm' && engine !== 'legacy')
		throw new Error(`--expression-engine takes vm or legacy, not ${engine}`);
	// n8n's setting for the real-n8n and bot rows; without it, n8n's default (`vm` in 2.x).
	const n8nEnv = engine === undefined ? undefined : { N8N_EXPRESSION_ENGINE: engine };
	const packageAt = argv.indexOf('--package');
	const tarball = packageAt >= 0 ? path.resolve(argv[packageAt + 1] ?? '') : undefined;
	const texts = only?.split(',').filter((text) => text !== '');
	const selected = <T extends { id: string }>(rows: T[]) =>
		rows.filter(({ id }) => texts === undefined || texts.some((text) => id.includes(text)));
	const scenarios = selected(SCENARIOS);
	const fairness = selected(FAIRNESS_SCENARIOS);
	const order = selected(ORDER_SCENARIOS);
	const realN8nSelected = selected(REAL_N8N_SCENARIOS);
	// Every real-n8n table carries the 1-item run, n8n's fixed cost, to compare against.
	const realN8n =
		realN8nSelected.length === 0 || realN8nSelected.includes(REAL_N8N_ONE_ITEM)
			? realN8nSelected
			: [REAL_N8N_ONE_ITEM, ...realN8nSelected];
	// The polling row waits for n8n's minute schedule: only when asked for by name.
	const bot: BotLoopScenario[] = selected(BOT_LOOP_SCENARIOS).filter(
		({ workflow }) => texts !== undefined || workflow !== 'polling',
	);
	// The trigger's modes in one real n8n, about 13 minutes: only when asked for by name.
	const modes = texts === undefined ? [] : selected(TRIGGER_MODES_SCENARIOS);
	// Real n8n processes in queue mode, minutes each: only when asked for by name.
	const queue = texts === undefined ? [] : selected(QUEUE_SCENARIOS);
	// Correctness, not speed: only when asked for by name.
	const fuzz = texts === undefined ? [] : selected(FUZZ_SCENARIOS);
	const numberAfter = (flag: string) => {
		const at = argv.indexOf(flag);
		if (at < 0) return undefined;
		const value = Number(argv[at + 1]);
		if (!Number.isInteger(value)) throw new Error(`${flag} takes a whole number`);
		return value;
	};
	const seed = numberAfter('--seed') ?? randomSeed();
	const runs = numberAfter('--runs');
	const total =
		scenarios.length +
		fairness.length +
		order.length +
		realN8n.length +
		bot.length +
		modes.length +
		queue.reduce((runs, scenario) => runs + scenario.runs, 0) +
		fuzz.length;
	if (total === 0) throw new Error(`No scenario matches ${only ?? ''} (see --list)`);

	const cpus = os.cpus();
	const header = [
		`# Benchmark: \`npm run bench\`${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
		'',
		`- Command: \`npm run bench\` (tsx scripts/bench.ts${argv.length > 0 ? ` ${argv.join(' ')}` : ''})`,
		`- Date: ${new Date().toISOString()}`,
		`- Node ${process.version}, n8n-core ${packageVersion('n8n-core')}, n8n-workflow ${packageVersion('n8n-workflow')}, ` +
			`${os.platform()} ${os.arch()}, ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
			`load average ${loadAverage()} at the start`,
		`- Sources: ${sourcesMeasured()}`,
		...(engine === undefined
			? []
			: [
					`- Real n8n and bot rows: N8N_EXPRESSION_ENGINE=${engine} (this overrides what the tables below say of the engine)`,
				]),
		"- In-process rows (all but the real-n8n table): the node runs from its sources in n8n-core's WorkflowExecute, " +
			"whose expressions use n8n-workflow's legacy evaluator, not the `vm` engine of a real n8n 2.x; the emulated " +
			'portal runs in the same process (127.0.0.1, real leaky bucket); a fresh portal and a fresh credential (so a ' +
			'fresh node-side budget) per row.',
		...(scenarios.length > 0
			? [
					`- ${SCALING}`,
					'- Physical limit: (requests - burst) / rate seconds, 0 within the burst; requests = N per item, ' +
						'ceil(N/50) in batches. Ratio = limit / wall time (1.0 = as fast as the budget physically allows).',
				]
			: []),
		'',
	];
	console.log(header.join('\n'));

	const benchStarted = performance.now();
	let done = 0;
	const progress = (id: string, expected = '') =>
		process.stderr.write(`[${++done}/${total}] ${id}${expected} ... `);
	const results: Result[] = [];
	for (const scenario of scenarios) {
		const expected = limitSeconds(scenario);
		progress(scenario.id, expected > 0 ? ` (at least ${seconds(expected * 1000)})` : '');
		const result = await runScenario(scenario);
		process.stderr.write(`${seconds(result.wallMs)}\n`);
		results.push(result);
	}
	if (results.length > 0) {
		console.log('In-process rows:\n');
		console.log(markdownTable(HEADER, results.map(row)));
		console.log('');
		for (const line of verdicts(results)) console.log(line);
		console.log('');
		for (const line of notes(results)) console.log(line);
		console.log('');
	}

	const fairnessResults: FairnessResult[] = [];
	for (const scenario of fairness) {
		progress(scenario.id);
		const result = await runFairness(scenario);
		process.stderr.write(`${seconds(result.bulkWallMs)}\n`);
		fairnessResults.push(result);
	}
	if (fairnessResults.length > 0) {
		console.log(`${FAIRNESS_ABOUT} Load average ${loadAverage()} after these rows.\n`);
		console.log(fairnessTable(fairnessResults));
		console.log('');
		for (const line of fairnessNotes(fairnessResults)) console.log(line);
		console.log('');
	}

	const orderResults: OrderResult[] = [];
	for (const scenario of order) {
		progress(scenario.id);
		const result = await runOrder(scenario);
		process.stderr.write(`${seconds(result.wallMs)}\n`);
		orderResults.push(result);
	}
	if (orderResults.length > 0) {
		console.log(`${ORDER_ABOUT} Load average ${loadAverage()} after these rows.\n`);
		console.log(orderTable(orderResults));
		console.log('');
		for (const line of orderNotes(orderResults)) console.log(line);
		console.log('');
	}
	if (realN8n.length + bot.length + modes.length > 0) {
		// The real n8n installs the packed package: build it from these sources first.
		execFileSync('npm', ['run', 'build'], { cwd: path.resolve(__dirname, '..'), stdio: 'ignore' });
	}
	if (realN8n.length > 0) {
		const realResults = await runRealN8n(
			realN8n,
			progress,
			(text) => process.stderr.write(`${text}\n`),
			n8nEnv,
		);
		console.log(`${REAL_N8N_ABOUT} Load average ${loadAverage()} after these rows.\n`);
		console.log(markdownTable(REAL_N8N_HEADER, realN8nRows(realResults)));
		console.log('');
		for (const line of realN8nVerdicts(realResults)) console.log(line);
		console.log('');
	}
	if (bot.length > 0) {
		const botResults = await runBotLoop(
			bot,
			progress,
			(text) => process.stderr.write(`${text}\n`),
			{
				env: n8nEnv,
			},
		);
		console.log(`${BOT_LOOP_ABOUT} Load average ${loadAverage()} after these rows.\n`);
		console.log(botLoopTable(botResults));
		console.log('');
	}
	if (modes.length > 0) {
		const modesResult = await runTriggerModes(
			progress,
			(text) => process.stderr.write(`${text}\n`),
			{ env: n8nEnv, note: (line) => process.stderr.write(`\n  ${line} ... `) },
		);
		const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
		console.log(triggerModesReport(modesResult, command));
		console.log(`Load average ${loadAverage()} after these rows.\n`);
	}
	const queueResults: QueueResult[] = [];
	// Queue mode installs the packed package too, unless another build was given.
	if (queue.length > 0 && !tarball)
		execFileSync('npm', ['run', 'build'], { cwd: path.resolve(__dirname, '..'), stdio: 'ignore' });
	for (const scenario of queue) {
		for (let run = 1; run <= scenario.runs; run++) {
			progress(scenario.id, scenario.runs > 1 ? ` (run ${run} of ${scenario.runs})` : '');
			const result = await runQueue(scenario, { tarball });
			process.stderr.write(`${seconds(result.wallMs)}\n`);
			queueResults.push(result);
			// Each row as it comes: a run of all rows takes a while.
			console.log(queueTable([result]).split('\n').slice(-1)[0]);
			if (argv.includes('--timeline')) console.log(`\nTimeline: ${result.timeline}\n`);
		}
	}
	if (queueResults.length > 0) {
		console.log(`\n${QUEUE_ABOUT} Load average ${loadAverage()} after these rows.\n`);
		console.log(queueTable(queueResults));
		console.log('');
		console.log(queueRepeatsTable(queueResults));
		console.log('');
	}
	const fuzzResults: FuzzResult[] = [];
	for (const scenario of fuzz) {
		progress(scenario.id, ` (seed ${seed})`);
		const result = await runFuzz(scenario, seed, runs);
		process.stderr.write(`${seconds(result.wallMs)}${result.failed ? ', FAILED' : ''}\n`);
		fuzzResults.push(result);
	}
	if (fuzzResults.length > 0) {
		console.log(`${FUZZ_ABOUT} Load average ${loadAverage()} after these rows.\n`);
		console.log(fuzzTable(fuzzResults));
		console.log('');
		for (const line of fuzzFailures(fuzzResults)) console.log(line);
		// A failed property is a bug, not a slow run: the command fails.
		if (fuzzResults.some((result) => result.failed)) process.exitCode = 1;
	}
	console.log(
		`Total bench time: ${seconds(performance.now() - benchStarted)}; load average ${loadAverage()} at the end ` +
			`(other processes on the machine slow the CPU-bound parts: n8n's per-item work and the batch rows)`,
	);
}

runWhenStarted(module, main);
