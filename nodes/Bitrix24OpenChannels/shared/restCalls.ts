import { sleep } from 'n8n-workflow';
import type { DeclarativeRestApiSettings, IExecutePaginationFunctions } from 'n8n-workflow';

import { RestBatcher, type RestCall, type SendOne } from './batching';
import { Bitrix24Failure } from './errors';
import type { PortalBudget } from './pacing';
import type { RunState } from './runState';
import { portalOf, sendRequest, toBitrix24Failure, type CallOutcome, type Portal } from './transport';

export type { CallOutcome };

/** Sends one REST call of an item and settles with its outcome (after any safe retries); never throws. */
export type RestCaller = (call: RestCall) => Promise<CallOutcome>;

const MAX_ATTEMPTS = 5;

/** The longest the node waits for a method's time budget to reset before failing the item instead. */
const MAX_OPERATION_LIMIT_WAIT_MS = 60_000;

/** Exponential backoff: 0.5 s, 0.75 s, 1.1 s... as Bitrix24's own SDK does (x1.5 per attempt). */
const backoff = (attempt: number) => Math.round(500 * 1.5 ** (attempt - 1));

/**
 * Failures after which a call may be sent again because Bitrix24 did not act on it, with the extra
 * wait before the next attempt (the budget paces the attempt itself). Alone or as a command of a
 * batch, the same. Anything else, 5xx and lost connections included, is never retried.
 */
const RETRIES: Partial<Record<string, (budget: PortalBudget, attempt: number) => number | undefined>> = {
	// Rejected by the rate limit: the portal's bucket is full, so ours must be too.
	QUERY_LIMIT_EXCEEDED: (budget, attempt) => {
		budget.markFull();
		return backoff(attempt);
	},
	// The method's time budget is used up until the reset the portal last reported.
	OPERATION_TIME_LIMIT: (budget) => {
		const wait = budget.operatingResetAt !== undefined ? budget.operatingResetAt + 1000 - Date.now() : 10_000;
		return wait <= MAX_OPERATION_LIMIT_WAIT_MS ? Math.max(wait, 1000) : undefined;
	},
	// Nothing was sent.
	CONNECTION_FAILED: (_budget, attempt) => backoff(attempt),
};

/** Waits `ms`, or less when the run is stopped meanwhile. */
async function pause(ms: number, stop: AbortSignal): Promise<void> {
	await Promise.race([
		sleep(ms),
		new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true })),
	]);
}

async function withRetries(
	send: () => Promise<CallOutcome>,
	portal: Promise<Portal | Bitrix24Failure>,
	stop: AbortSignal,
): Promise<CallOutcome> {
	for (let attempt = 1; ; attempt++) {
		const outcome = await send();
		if (!(outcome instanceof Bitrix24Failure)) return outcome;
		const retry = RETRIES[outcome.code];
		const resolved = await portal;
		const wait = retry && attempt < MAX_ATTEMPTS && !(resolved instanceof Bitrix24Failure) ? retry(resolved.budget, attempt) : undefined;
		if (wait === undefined || stop.aborted) return outcome;
		await pause(wait, stop);
	}
}

interface RunCalls {
	portal: Promise<Portal | Bitrix24Failure>;
	batcher?: RestBatcher;
}

const runCalls = new WeakMap<RunState<unknown>, RunCalls>();

/** Sends one call as itself through this item's n8n context, within the run's budget and stop signal. */
function sendOneFor(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	run: RunState<unknown>,
	portal: Promise<Portal | Bitrix24Failure>,
): SendOne {
	return async (method, params) => {
		const resolved = await portal;
		if (resolved instanceof Bitrix24Failure) return resolved.of(method);
		return await sendRequest(context, requestData, resolved, { method, params, run, stop: run.stop.signal });
	};
}

/**
 * How this item sends its REST calls: alone, or gathered with the run's other items into batch calls
 * (`batchSize` > 1). In batch mode the item's first call must be made before its first await, so that
 * the whole run's calls gather in one tick.
 */
export function restCallerFor(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	run: RunState<unknown>,
	batchSize: number,
): RestCaller {
	let calls = runCalls.get(run);
	if (!calls) {
		// The first item resolves the credential for the whole run; its context sends the batch calls.
		const portal = portalOf(context).catch((error: unknown) => toBitrix24Failure(error));
		const batcher = batchSize > 1 ? new RestBatcher(sendOneFor(context, requestData, run, portal), batchSize, run.lanes) : undefined;
		calls = { portal, batcher };
		runCalls.set(run, calls);
	}
	const { portal, batcher } = calls;
	const itemIndex = context.getItemIndex();
	const sendOne = sendOneFor(context, requestData, run, portal);
	const send = batcher
		? async (call: RestCall) => await batcher.call(call, itemIndex)
		: async (call: RestCall) => await sendOne(call.method, call.params);
	return async (call) => await withRetries(async () => await send(call), portal, run.stop.signal);
}
