/**
 * Rows of `npm run bench` run in a real n8n 2.41.1 (the one the e2e suite installs into `.cache/`), as users
 * run it: the packed package installed as a community package, `n8n execute` of Manual Trigger -> Code (the
 * items) -> Bitrix24 Open Channels, n8n's default expression engine (`vm`, isolated-vm). Each row gets its own
 * emulated portal (budget as named) and credential; times come from the portal's record of each request and
 * from the `n8n execute` process, so they include what users pay: n8n's start, the Code node and n8n's
 * per-item work in RoutingNode before the first request.
 */
import { performance } from 'node:perf_hooks';

import {
	addCampaignChats,
	startEmulator,
	CHATS,
	FIRST_CAMPAIGN_CHAT,
	LEADS,
	USERS,
	type Emulator,
} from '../../tools/emulator';
import { ensureN8n } from '../../tools/n8n/install';
import { N8nSession, findExecution, outputItems, type JsonObject } from '../../tools/n8n/runner';
import { exampleVariant, NODES, webhookCredential, type Workflow } from '../../tools/n8n/workflows';
import {
	BATCH_SIZE,
	deliveryOf,
	physicalLimitSeconds,
	seconds,
	thousands,
	type Budget,
} from './measure';

/** Where each message's values come from. */
export type Input = 'expressions' | 'fields' | 'fixed';

export interface RealN8nScenario {
	id: string;
	label: string;
	budget: Budget;
	mode: 'per-item' | 'batch';
	input: Input;
	items: number;
	/** n8n's own Request Options > Batching: RoutingNode pauses this long (ms) every 50 items. */
	n8nBatchIntervalMs?: number;
	/** Each message to a chat of its own (a campaign to many customers) instead of all to one chat. */
	campaign?: boolean;
}

const ENTERPRISE = {
	label: 'Enterprise 250 / 5 per s',
	budget: { burstLimit: 250, requestsPerSecond: 5 },
};
const ENTERPRISE_X10 = {
	label: 'Enterprise x10: 250 / 50 per s',
	budget: { burstLimit: 250, requestsPerSecond: 50 },
};
const STANDARD = {
	label: 'Standard 50 / 2 per s',
	budget: { burstLimit: 50, requestsPerSecond: 2 },
};

const row = (
	profile: { label: string; budget: Budget },
	mode: RealN8nScenario['mode'],
	input: Input,
	items: number,
	{ n8nBatchIntervalMs, campaign }: Pick<RealN8nScenario, 'n8nBatchIntervalMs' | 'campaign'> = {},
): RealN8nScenario => ({
	// 1k / 10k: no id is a prefix of another, so `--only` picks one row.
	id:
		`n8n-${profile === ENTERPRISE ? 'enterprise' : profile === ENTERPRISE_X10 ? 'enterprise-x10' : 'standard'}-${mode}-${input}-${items >= 1000 ? `${items / 1000}k` : items}` +
		`${n8nBatchIntervalMs === undefined ? '' : '-n8n-batching'}${campaign ? '-campaign' : ''}`,
	...profile,
	mode,
	input,
	items,
	n8nBatchIntervalMs,
	campaign,
});

/** n8n's fixed cost (start, import of the execution, exit): a 1-item run, measured with any other real-n8n row. */
export const REAL_N8N_ONE_ITEM: RealN8nScenario = {
	...row(ENTERPRISE, 'batch', 'fixed', 1),
	id: 'n8n-one-item',
};

/** The real-n8n rows; ids start with `n8n-` (`npm run bench -- --only n8n-`). */
export const REAL_N8N_SCENARIOS: RealN8nScenario[] = [
	REAL_N8N_ONE_ITEM,
	...(['expressions', 'fields', 'fixed'] as const).flatMap((input) => [
		row(ENTERPRISE, 'batch', input, 1_000),
		row(ENTERPRISE, 'batch', input, 10_000),
		row(ENTERPRISE_X10, 'per-item', input, 1_000),
		row(ENTERPRISE_X10, 'per-item', input, 10_000),
	]),
	// Can the first batch leave while n8n still resolves the items? n8n's Request Options > Batching makes
	// RoutingNode pause every 50 items, and the node sends what it has at each pause.
	row(ENTERPRISE, 'batch', 'expressions', 1_000, { n8nBatchIntervalMs: 1 }),
	row(STANDARD, 'batch', 'expressions', 10_000),
	row(STANDARD, 'batch', 'expressions', 10_000, { n8nBatchIntervalMs: 1 }),
	row(STANDARD, 'batch', 'fields', 10_000),
	// The same with each message to its own chat: no batch waits for the answer to an earlier one.
	row(STANDARD, 'batch', 'expressions', 10_000, { campaign: true }),
	row(STANDARD, 'batch', 'expressions', 10_000, { n8nBatchIntervalMs: 1, campaign: true }),
];

export interface RealN8nResult {
	scenario: RealN8nScenario;
	/** From starting `n8n execute` to its exit. */
	wallMs: number;
	/** From starting `n8n execute` to the Bitrix24 node's start, its first and its last request. */
	nodeStartMs?: number;
	firstRequestMs?: number;
	lastRequestMs?: number;
	requests: number;
	rejected503: number;
	/** Items whose message the portal posted. */
	posted: number;
	/** Messages the portal posted beyond one per item. */
	extraPosted: number;
	/** The node's outputs, when n8n printed the whole execution. */
	outputs?: { sent: number; failed: number };
	error?: string;
}

/** The items, with the fields each input path reads. */
function itemsCode(scenario: RealN8nScenario): string {
	const chat = scenario.campaign
		? `${FIRST_CAMPAIGN_CHAT} + i`
		: String(CHATS.LEAD_TELEGRAM_ACTIVE);
	const fields =
		scenario.input === 'fields'
			? `crmEntityType: 'lead', crmEntityId: ${LEADS.WEBSITE_INQUIRY}, userId: ${USERS.OLEG_OPERATOR}, chatId: ${chat}, message: 'Bench notification #' + (i + 1)`
			: `type: 'lead', entityId: ${LEADS.WEBSITE_INQUIRY}, sender: ${USERS.OLEG_OPERATOR}, chat: ${chat}, text: 'Bench notification #' + (i + 1)`;
	return `return Array.from({ length: ${scenario.items} }, (_, i) => ({ json: { ${fields} } }));`;
}

const id = (value: number | string) => ({ __rl: true, mode: 'id', value });

/** The Bitrix24 node's parameters for each input path: five expressions, field names, or fixed values. */
const PARAMETERS: Record<Input, JsonObject> = {
	expressions: {
		crmEntityType: '={{ $json.type }}',
		crmEntityId: '={{ $json.entityId }}',
		userId: id('={{ $json.sender }}'),
		chatId: id('={{ $json.chat }}'),
		message: '={{ $json.text }}',
	},
	fields: { input: 'inputFields' },
	fixed: {
		crmEntityType: 'lead',
		crmEntityId: String(LEADS.WEBSITE_INQUIRY),
		userId: id(String(USERS.OLEG_OPERATOR)),
		chatId: id(String(CHATS.LEAD_TELEGRAM_ACTIVE)),
		message: 'Bench notification',
	},
};

function workflowOf(scenario: RealN8nScenario, index: number): Workflow {
	const credential = { id: `bench${index}`, name: `Bench portal ${index}` };
	return exampleVariant({
		id: `benchRow${index}`,
		name: `bench ${scenario.id}`,
		jsCode: itemsCode(scenario),
		webhook: credential,
		onError: 'continueErrorOutput',
		parameters: {
			...PARAMETERS[scenario.input],
			options: scenario.mode === 'batch' ? { batchSize: BATCH_SIZE } : { sendInBatches: false },
			...(scenario.n8nBatchIntervalMs === undefined
				? {}
				: {
						requestOptions: {
							batching: {
								batch: { batchSize: BATCH_SIZE, batchInterval: scenario.n8nBatchIntervalMs },
							},
						},
					}),
		},
	});
}

/**
 * Runs the rows in one n8n user folder: every row's portal starts first (idle portals keep their full burst),
 * then one import of all credentials and workflows, then one `n8n execute` per row.
 */
export async function runRealN8n(
	scenarios: RealN8nScenario[],
	progress: (id: string, expected: string) => void,
	done: (text: string) => void,
	env?: Record<string, string>,
): Promise<RealN8nResult[]> {
	const installed = await ensureN8n('2.x', (line) => process.stderr.write(`${line}\n`));
	const session = await N8nSession.open(installed, { name: 'bench', env });
	// The first `n8n execute` of a user folder pays for cold caches (several seconds more): a 1-item run first,
	// not measured, on a portal of its own.
	const rows = [{ ...REAL_N8N_ONE_ITEM, id: 'n8n-warm-up' }, ...scenarios];
	const emulators: Emulator[] = [];
	try {
		for (const scenario of rows) {
			const emulator = await startEmulator(scenario.budget);
			if (scenario.campaign) addCampaignChats(emulator.world, scenario.items);
			emulators.push(emulator);
		}
		await session.importCredentials(
			rows.map((scenario, index) =>
				webhookCredential(
					{ id: `bench${index}`, name: `Bench portal ${index}` },
					emulators[index].webhookUrl,
					scenario.budget,
				),
			),
		);
		await session.importWorkflows(rows.map(workflowOf));
		await session.command(['execute', '--id=benchRow0'], { label: 'warm-up' });
		const results: RealN8nResult[] = [];
		for (const [index, scenario] of rows.entries()) {
			if (index === 0) continue;
			const limit = realLimitSeconds(scenario);
			progress(scenario.id, limit > 0 ? ` (at least ${seconds(limit * 1000)} + n8n)` : '');
			const result = await runRow(session, scenario, emulators[index], `benchRow${index}`);
			done(seconds(result.wallMs));
			results.push(result);
		}
		return results;
	} finally {
		for (const emulator of emulators) await emulator.close();
		session.remove();
	}
}

async function runRow(
	session: N8nSession,
	scenario: RealN8nScenario,
	emulator: Emulator,
	workflowId: string,
): Promise<RealN8nResult> {
	const startedAt = Date.now();
	const started = performance.now();
	const command = await session.command(['execute', `--id=${workflowId}`, '--rawOutput'], {
		allowFailure: true,
		timeoutMs: 1_800_000,
		label: `execute ${scenario.id}`,
	});
	const wallMs = performance.now() - started;
	// n8n exits before a pipe takes the whole execution record of a large run (it is cut after about 4,000
	// items): when it is cut, what was delivered is read from the portal alone.
	const run = findExecution(command.records);
	const execution = run ? { exitCode: command.code, run, seconds: command.seconds } : undefined;
	const nodeRun = run?.data.resultData.runData[NODES.bitrix24]?.[0] as
		| { startTime?: number }
		| undefined;
	const requestTimes = emulator.requests.map((request) => request.at - startedAt);
	const { delivered, duplicates, stray } = deliveryOf(
		scenario.input === 'fixed' ? [] : texts(scenario),
		emulator.messages,
	);
	const posted = scenario.input === 'fixed' ? emulator.messages.length : delivered;
	return {
		scenario,
		wallMs,
		nodeStartMs: nodeRun?.startTime === undefined ? undefined : nodeRun.startTime - startedAt,
		firstRequestMs: requestTimes.length > 0 ? Math.min(...requestTimes) : undefined,
		lastRequestMs: requestTimes.length > 0 ? Math.max(...requestTimes) : undefined,
		requests: emulator.requests.length,
		rejected503: emulator.state().rejected503,
		posted: Math.min(posted, scenario.items),
		extraPosted:
			scenario.input === 'fixed'
				? Math.max(0, emulator.messages.length - scenario.items)
				: duplicates + stray,
		outputs: execution
			? {
					sent: outputItems(execution, NODES.bitrix24, 0).length,
					failed: outputItems(execution, NODES.bitrix24, 1).length,
				}
			: undefined,
		error: run?.data.resultData.error?.message,
	};
}

/** Each item's text (the fields and expressions rows give every message its own). */
const texts = (scenario: RealN8nScenario) =>
	Array.from({ length: scenario.items }, (_, i) => `Bench notification #${i + 1}`);

const requestsNeeded = ({ mode, items }: RealN8nScenario) =>
	mode === 'batch' ? Math.ceil(items / BATCH_SIZE) : items;

/** The portal's limit for the row: (requests - burst) / rate, 0 within the burst. */
export const realLimitSeconds = (scenario: RealN8nScenario) =>
	physicalLimitSeconds(requestsNeeded(scenario), scenario.budget);

const INPUT_LABEL: Record<Input, string> = {
	expressions: 'five expressions',
	fields: 'Take From Input Fields',
	fixed: 'fixed values',
};

export const REAL_N8N_ABOUT =
	'Real n8n 2.41.1 (`n8n execute`, Node 24, default `vm` expression engine, the packed package installed as a ' +
	'community package): Manual Trigger -> Code (N items) -> Bitrix24 Open Channels (Continue using error output), ' +
	"a fresh emulated portal per row. Times are from starting `n8n execute`: n8n's start (the 1-item row), the Code " +
	"node, then RoutingNode's per-item work before the node's first request, the sending, and n8n's exit. " +
	'"vs 1-item + limit" = wall time / (the 1-item run\'s wall time + the portal\'s limit). "x10" rows drain 10 times ' +
	'faster than the plan.';

const HEADER = [
	'Profile (burst / rate)',
	'Mode',
	'Input',
	'Items',
	'Wall time',
	'Node starts',
	'First request',
	'Last request',
	'Portal limit',
	'vs 1-item + limit',
	'Requests (503s)',
	'Posted / failed (outputs)',
	'Posted twice',
];

function oneItemWall(results: RealN8nResult[]): number | undefined {
	return results.find(({ scenario }) => scenario === REAL_N8N_ONE_ITEM)?.wallMs;
}

const at = (ms: number | undefined) => (ms === undefined ? 'n/a' : seconds(ms));

export function realN8nRows(results: RealN8nResult[]): string[][] {
	const fixedCost = oneItemWall(results);
	return results.map((result) => {
		const { scenario } = result;
		const limit = realLimitSeconds(scenario);
		const ratio =
			fixedCost === undefined ? 'n/a' : (result.wallMs / (fixedCost + limit * 1000)).toFixed(2);
		return [
			scenario.label,
			scenario.mode === 'batch' ? `batch of ${BATCH_SIZE}` : 'per item',
			INPUT_LABEL[scenario.input] +
				(scenario.n8nBatchIntervalMs === undefined
					? ''
					: `, n8n batching ${BATCH_SIZE} / ${scenario.n8nBatchIntervalMs} ms`) +
				(scenario.campaign ? ', one chat per message' : ''),
			thousands(scenario.items),
			seconds(result.wallMs),
			at(result.nodeStartMs),
			at(result.firstRequestMs),
			at(result.lastRequestMs),
			limit === 0 ? '0 s' : seconds(limit * 1000),
			ratio,
			`${thousands(result.requests)} (${thousands(result.rejected503)})`,
			`${thousands(result.posted)} / ` +
				(result.outputs ? thousands(result.outputs.failed) : 'n/a (output cut)'),
			thousands(result.extraPosted),
		];
	});
}

export const REAL_N8N_HEADER = HEADER;

/** The issue's goal (not asserted): 10,000 batched at the Enterprise budget, fields path, within 1.2x. */
export function realN8nVerdicts(results: RealN8nResult[]): string[] {
	const fixedCost = oneItemWall(results);
	const lines: string[] = [];
	for (const result of results) {
		const { scenario } = result;
		const clean =
			result.posted === scenario.items &&
			(result.outputs?.failed ?? 0) === 0 &&
			result.extraPosted === 0;
		if (!clean || result.error) {
			lines.push(
				`WARN ${scenario.id}: ${result.posted} posted, ${result.outputs?.failed ?? 'n/a'} failed, ` +
					`${result.extraPosted} posted twice` +
					(result.error ? `; workflow error: ${result.error}` : ''),
			);
		}
		if (
			fixedCost !== undefined &&
			scenario.budget === ENTERPRISE.budget &&
			scenario.mode === 'batch' &&
			scenario.input === 'fields' &&
			scenario.items === 10_000
		) {
			const target = 1.2 * (fixedCost + realLimitSeconds(scenario) * 1000);
			lines.push(
				`${result.wallMs <= target ? 'PASS' : 'WARN'} 10,000 messages batched, Enterprise, Take From Input Fields: ` +
					`${seconds(result.wallMs)} (want <= 1.2 x (${seconds(fixedCost)} 1-item run + ` +
					`${seconds(realLimitSeconds(scenario) * 1000)} limit) = ${seconds(target)})`,
			);
		}
	}
	return lines;
}
