/**
 * Order rows of `npm run bench`: what keeping messages to one chat in input order costs, in one process
 * (n8n's WorkflowExecute, the node's sources and the emulated portal). The same 300 messages go to ONE chat
 * or round robin over the four chats sender 27 may write to, per item and in batches, over a link with and
 * without jitter. Per item, a message waits for the answer to the previous one to its chat; in batches, a
 * batch waits for the earlier batch with a message to one of its chats.
 */
import { performance } from 'node:perf_hooks';

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import {
	CHATS,
	COMPANIES,
	CONTACTS,
	DEALS,
	LEADS,
	startEmulator,
	USERS,
	type CrmEntityType,
	type RecordedMessage,
} from '../../tools/emulator';
import { MAPPED_PARAMETERS, runNode } from '../../tools/harness/runWorkflow';
import { BATCH_SIZE, markdownTable, median, seconds, thousands, type Budget } from './measure';

/** The seed world's in-progress chats of which sender 27 is a member, with the CRM entity each belongs to. */
const WRITABLE_CHATS: ReadonlyArray<{ chat: number; type: CrmEntityType; entityId: number }> = [
	{ chat: CHATS.LEAD_TELEGRAM_ACTIVE, type: 'lead', entityId: LEADS.WEBSITE_INQUIRY },
	{ chat: CHATS.DEAL_TELEGRAM_ACTIVE, type: 'deal', entityId: DEALS.ORDER_501 },
	{ chat: CHATS.CONTACT_WHATSAPP_ACTIVE, type: 'contact', entityId: CONTACTS.PAVEL_CUSTOMER },
	{ chat: CHATS.COMPANY_LIVECHAT_ACTIVE, type: 'company', entityId: COMPANIES.ACME },
];

const ITEMS = 300;
/** Runs per row: they are short, and the median steadies them on a busy machine. */
const REPEATS = 3;
const JITTER_MS = 20;
/** A fixed seed: the jittered rows repeat the same holds. */
const JITTER_SEED = 7;

/** Out of the way (300 requests fit in the burst), so the rows show the order's cost alone. */
const UNBOUND: Budget = { burstLimit: 1_000, requestsPerSecond: 1_000 };
/** Standard x10: per item, the pacer's 50 ms between requests is longer than a round trip. */
const STANDARD_X10: Budget = { burstLimit: 50, requestsPerSecond: 20 };

export interface OrderScenario {
	id: string;
	budget: Budget;
	mode: 'per-item' | 'batch';
	chats: 1 | 4;
	jitterMs: number;
}

function scenario(
	mode: OrderScenario['mode'],
	chats: 1 | 4,
	jitterMs: number,
	budget = UNBOUND,
): OrderScenario {
	const where = chats === 1 ? 'one-chat' : '4-chats';
	const link = jitterMs > 0 ? `jitter${jitterMs}` : 'no-jitter';
	return {
		id: `order-${mode}-${where}-${link}${budget === UNBOUND ? '' : '-paced'}`,
		budget,
		mode,
		chats,
		jitterMs,
	};
}

export const ORDER_SCENARIOS: OrderScenario[] = [
	scenario('per-item', 1, 0),
	scenario('per-item', 4, 0),
	scenario('per-item', 1, JITTER_MS),
	scenario('per-item', 4, JITTER_MS),
	scenario('batch', 1, 0),
	scenario('batch', 4, 0),
	scenario('batch', 1, JITTER_MS),
	scenario('batch', 4, JITTER_MS),
	// The same chains under a budget that binds: the pacer's wait hides the round trip.
	scenario('per-item', 1, JITTER_MS, STANDARD_X10),
	scenario('per-item', 4, JITTER_MS, STANDARD_X10),
];

const OPTIONS: Record<OrderScenario['mode'], INodeParameters> = {
	'per-item': { sendInBatches: false },
	batch: { sendInBatches: true, batchSize: BATCH_SIZE },
};

/** Message i goes to chat i mod `chats`: interleaved, as a list of customers would be. */
const itemsOf = ({ id, chats }: OrderScenario): IDataObject[] =>
	Array.from({ length: ITEMS }, (_, index) => {
		const { chat, type, entityId } = WRITABLE_CHATS[index % chats];
		return {
			type,
			entityId,
			sender: USERS.OLEG_OPERATOR,
			chat,
			text: `Bench ${id}: #${index + 1}`,
		};
	});

/**
 * The most requests that must go one after another: per item, the messages of the busiest chat; in
 * batches, the longest run of batches each sharing a chat with an earlier one.
 */
function longestChain({ mode }: OrderScenario, items: IDataObject[]): number {
	if (mode === 'per-item') {
		const perChat = new Map<unknown, number>();
		for (const { chat } of items) perChat.set(chat, (perChat.get(chat) ?? 0) + 1);
		return Math.max(...perChat.values());
	}
	const chainEndingAt = new Map<unknown, number>();
	let longest = 0;
	for (let start = 0; start < items.length; start += BATCH_SIZE) {
		const chats = new Set(items.slice(start, start + BATCH_SIZE).map(({ chat }) => chat));
		const length = 1 + Math.max(0, ...[...chats].map((chat) => chainEndingAt.get(chat) ?? 0));
		for (const chat of chats) chainEndingAt.set(chat, length);
		longest = Math.max(longest, length);
	}
	return longest;
}

/** Every chat's messages arrived in input order (the text carries the index). */
function inInputOrder(messages: readonly RecordedMessage[]): boolean {
	const lastByChat = new Map<number, number>();
	for (const { chatId, message } of messages) {
		const index = Number(message.slice(message.lastIndexOf('#') + 1));
		if (index <= (lastByChat.get(chatId) ?? 0)) return false;
		lastByChat.set(chatId, index);
	}
	return true;
}

interface OrderRun {
	wallMs: number;
	requests: number;
	rejected503: number;
	delivered: number;
	failed: number;
	ordered: boolean;
}

export interface OrderResult extends OrderRun {
	scenario: OrderScenario;
	/** Every run's wall time; `wallMs` is their median. The counts are the worst run's. */
	wallsMs: number[];
	chain: number;
}

/** REPEATS runs, each against a fresh portal with the same jitter seed. */
export async function runOrder(scenario: OrderScenario): Promise<OrderResult> {
	const runs: OrderRun[] = [];
	for (let run = 0; run < REPEATS; run++) runs.push(await runOnce(scenario));
	const most = (pick: (run: OrderRun) => number) => Math.max(...runs.map(pick));
	return {
		scenario,
		wallsMs: runs.map(({ wallMs }) => wallMs),
		wallMs: median(runs.map(({ wallMs }) => wallMs)),
		requests: most(({ requests }) => requests),
		rejected503: most(({ rejected503 }) => rejected503),
		delivered: Math.min(...runs.map(({ delivered }) => delivered)),
		failed: most(({ failed }) => failed),
		ordered: runs.every(({ ordered }) => ordered),
		chain: longestChain(scenario, itemsOf(scenario)),
	};
}

async function runOnce(scenario: OrderScenario): Promise<OrderRun> {
	const emulator = await startEmulator(scenario.budget);
	try {
		emulator.setJitter(scenario.jitterMs, JITTER_SEED);
		const items = itemsOf(scenario);
		const started = performance.now();
		const { outputs } = await runNode({
			credential: {
				type: 'bitrix24WebhookApi',
				data: { webhookUrl: emulator.webhookUrl, ...scenario.budget },
			},
			items,
			parameters: { ...MAPPED_PARAMETERS, options: OPTIONS[scenario.mode] },
			onError: 'continueErrorOutput',
		});
		return {
			wallMs: performance.now() - started,
			requests: emulator.requests.length,
			rejected503: emulator.state().rejected503,
			delivered: emulator.messages.length,
			failed: outputs[1]?.length ?? 0,
			ordered: inInputOrder(emulator.messages),
		};
	} finally {
		await emulator.close();
	}
}

const budgetLabel = ({ budget }: OrderScenario) =>
	budget === UNBOUND
		? 'out of the way (1,000 / 1,000 per s)'
		: `${budget.burstLimit} / ${budget.requestsPerSecond} per s`;

export const ORDER_HEADER = [
	'Run',
	'Budget (burst / rate)',
	'Mode',
	'Chats',
	'Link jitter',
	`Wall time, median (range) of ${REPEATS}`,
	'Requests / 503s',
	'Longest chain (requests)',
	'Delivered / failed',
	'Order per chat kept',
];

export function orderRow(result: OrderResult): string[] {
	const { scenario } = result;
	return [
		'in-process',
		budgetLabel(scenario),
		scenario.mode === 'per-item' ? 'per item' : `batches of ${BATCH_SIZE}`,
		scenario.chats === 1 ? 'one (1341)' : '4 (1341, 1500, 1600, 1700)',
		scenario.jitterMs > 0 ? `0 to ${scenario.jitterMs} ms` : 'none',
		`${seconds(result.wallMs)} (${seconds(Math.min(...result.wallsMs))} to ${seconds(Math.max(...result.wallsMs))})`,
		`${thousands(result.requests)} / ${thousands(result.rejected503)}`,
		thousands(result.chain),
		`${thousands(result.delivered)} / ${thousands(result.failed)}`,
		result.ordered ? 'yes' : 'NO',
	];
}

export const ORDER_ABOUT =
	`Order cost, in-process: ${ITEMS} messages through the node in one execution (each row run ${REPEATS} times), ` +
	'to ONE chat (1341, lead 1195) or round robin over chats 1341 (lead 1195), 1500 (deal 501), 1600 (contact 77) ' +
	'and 1700 (company 12), sender 27. ' +
	`Link jitter: the emulator holds each call 0 to ${JITTER_MS} ms (seed ${JITTER_SEED}) before processing it. ` +
	"Longest chain: requests that must go one after another (per item, the busiest chat's messages; in batches, " +
	"the batches that share a chat with an earlier one). Wall time includes n8n resolving every item's parameters " +
	'before the first request (about 0.4 s for 300).';

/**
 * What the order cost per chained request: one chat against four, same mode, link and budget. The four-chat
 * run pays the same n8n work and requests, so the difference is the longer chain.
 */
export function orderNotes(results: OrderResult[]): string[] {
	const lines: string[] = [];
	for (const one of results.filter(({ scenario }) => scenario.chats === 1)) {
		const four = results.find(
			({ scenario }) =>
				scenario.chats === 4 &&
				scenario.mode === one.scenario.mode &&
				scenario.jitterMs === one.scenario.jitterMs &&
				scenario.budget === one.scenario.budget,
		);
		if (!four) continue;
		const extraMs = one.wallMs - four.wallMs;
		const extraChain = one.chain - four.chain;
		const signed = `${extraMs >= 0 ? '+' : '-'}${seconds(Math.abs(extraMs))}`;
		lines.push(
			`- ${one.scenario.id}: ${seconds(one.wallMs)} against ${seconds(four.wallMs)} over four chats (medians), ${signed} ` +
				(extraChain > 0
					? `for ${thousands(extraChain)} more chained requests, ${(extraMs / extraChain).toFixed(1)} ms each`
					: 'with the same chain (every batch holds every chat)'),
		);
	}
	return lines;
}

export const orderTable = (results: OrderResult[]) =>
	markdownTable(ORDER_HEADER, results.map(orderRow));
