import { sleepUnless } from './sleepUnless';
import type { DeclarativeRestApiSettings, IExecutePaginationFunctions } from 'n8n-workflow';

import {
	batchFormOf,
	RestBatcher,
	type RestRequest,
	type RetryPolicy,
	type SendOne,
} from './batching';
import { Bitrix24Failure, refusesEveryCall } from './errors';
import type { PortalBudget } from './pacing';
import type { RunState } from './runState';
import {
	portalOf,
	sendRequest,
	toBitrix24Failure,
	type RestOutcome,
	type Portal,
} from './transport';

export type { RestOutcome };

/** Sends one REST call of an item and settles with its outcome (after any safe retries); never throws. */
export type RestSender = (call: RestRequest) => Promise<RestOutcome>;

/** Attempts in all for a call the portal did not act on, by code; other retryable codes get DEFAULT_ATTEMPTS. */
const MAX_ATTEMPTS: Partial<Record<string, number>> = {
	// Several n8n workers on one portal meet its limit more often: each refusal costs nothing but time.
	QUERY_LIMIT_EXCEEDED: 12,
};
const DEFAULT_ATTEMPTS = 5;

/** The longest the node waits for a method's time budget to reset before failing the item instead. */
const MAX_OPERATION_LIMIT_WAIT_MS = 60_000;

/** Each wait is drawn between half and one and a half times its base, so callers refused together do not return together. */
const jittered = (ms: number) => Math.round(ms * (0.5 + Math.random()));

/** Exponential backoff: 0.5 s, 0.75 s, 1.1 s... as Bitrix24's own SDK does (x1.5 per attempt), jittered. */
const backoff = (attempt: number) => jittered(500 * 1.5 ** (attempt - 1));

/** After a refusal by the rate limit: 1, 2, 4, then 8 slots of the credential's rate, jittered. */
const limitBackoff = (budget: PortalBudget, attempt: number) =>
	jittered(budget.slotMs * 2 ** Math.min(attempt - 1, 3));

/**
 * Failures after which a call may be sent again because Bitrix24 did not act on it, with the extra
 * wait before the next attempt (the budget paces the attempt itself). Alone or as a command of a
 * batch, the same. Anything else, 5xx and lost connections included, is never retried.
 */
const RETRIES: Partial<
	Record<string, (budget: PortalBudget, attempt: number, method: string) => number | undefined>
> = {
	// Rejected by the rate limit (the budget has heard of it and holds back): send it again later.
	QUERY_LIMIT_EXCEEDED: (budget, attempt) => limitBackoff(budget, attempt),
	// The method's time budget is used up until the reset the portal last reported for it.
	OPERATION_TIME_LIMIT: (budget, _attempt, method) => {
		const resetAt = budget.operatingResetAt(method);
		const wait = resetAt !== undefined ? resetAt + 1000 - Date.now() : 10_000;
		return wait <= MAX_OPERATION_LIMIT_WAIT_MS ? Math.max(wait, 1000) : undefined;
	},
	// Nothing was sent.
	CONNECTION_FAILED: (_budget, attempt) => backoff(attempt),
};

/** When to send a call again, for the calls of one run: after the failures Bitrix24 did not act on. */
class RunRetries implements RetryPolicy {
	constructor(
		private readonly portal: Promise<Portal | Bitrix24Failure>,
		private readonly run: RunState<unknown>,
	) {}

	async retryAfter(
		method: string,
		outcome: RestOutcome,
		attempt: number,
	): Promise<number | undefined> {
		const portal = await this.portal;
		if (portal instanceof Bitrix24Failure) return undefined;
		if (!(outcome instanceof Bitrix24Failure)) {
			portal.budget.noteOperatingReset(method, outcome.time);
			return undefined;
		}
		const retry = RETRIES[outcome.code];
		const attempts = MAX_ATTEMPTS[outcome.code] ?? DEFAULT_ATTEMPTS;
		const wait = retry && attempt < attempts ? retry(portal.budget, attempt, method) : undefined;
		return this.run.stop.signal.aborted ? undefined : wait;
	}

	/** Waits `ms`, or less when the run is stopped meanwhile (the next attempt is then not sent). */
	async pause(ms: number): Promise<void> {
		await sleepUnless(ms, this.run.stopped);
	}
}

/** One call sent alone, again while the policy says so. */
async function withRetries(
	call: RestRequest,
	send: SendOne,
	retries: RetryPolicy,
): Promise<RestOutcome> {
	for (let attempt = 1; ; attempt++) {
		const outcome = await send(call.method, call.params);
		const wait = await retries.retryAfter(call.method, outcome, attempt);
		if (wait === undefined) return outcome;
		await retries.pause(wait);
	}
}

interface RunCalls {
	portal: Promise<Portal | Bitrix24Failure>;
	retries: RunRetries;
	batcher?: RestBatcher;
	/**
	 * Bitrix24's refusal of the credential or portal, once a call met one: the run's later calls fail with it
	 * without being sent. Over OAuth2 n8n refreshes the token on every 401 before giving up, so each further
	 * call would cost a refresh and two requests for the same answer.
	 */
	refusal?: Bitrix24Failure;
}

const runCalls = new WeakMap<RunState<unknown>, RunCalls>();

/** Sends one call as itself through this item's n8n context, within the run's budget and stop signal. */
function sendOneFor(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	run: RunState<unknown>,
	calls: RunCalls,
): SendOne {
	return async (method, params) => {
		const resolved = await calls.portal;
		if (resolved instanceof Bitrix24Failure) return resolved.of(method);
		if (calls.refusal) return calls.refusal.of(method);
		const outcome = await sendRequest(context, requestData, resolved, {
			method,
			params,
			run,
			stop: run.stop.signal,
		});
		if (outcome instanceof Bitrix24Failure && refusesEveryCall(outcome)) calls.refusal ??= outcome;
		return outcome;
	};
}

/**
 * How this item sends its REST calls: alone, or gathered with the run's other items into batch calls
 * (`batchSize` > 1). In batch mode the item's first call must be made before its first await, so that
 * the whole run's calls gather in one tick.
 */
export function restSenderFor(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	run: RunState<unknown>,
	batchSize: number,
): RestSender {
	let calls = runCalls.get(run);
	if (!calls) {
		// The first item resolves the credential for the whole run; its context sends the batch calls.
		const portal = portalOf(context).catch((error: unknown) => toBitrix24Failure(error));
		const created: RunCalls = { portal, retries: new RunRetries(portal, run) };
		if (batchSize > 1) {
			created.batcher = new RestBatcher(
				sendOneFor(context, requestData, run, created),
				batchSize,
				run.lanes,
				created.retries,
			);
		}
		calls = created;
		runCalls.set(run, calls);
	}
	const { retries, batcher } = calls;
	if (batcher) {
		const itemIndex = context.getItemIndex();
		return async (call) => await batcher.call(call, itemIndex);
	}
	const sendOne = sendOneFor(context, requestData, run, calls);
	return async (call) => {
		// Parameters a batch could not carry fail alone too: both modes deliver the same, or nothing.
		const form = batchFormOf(call.method, call.params);
		return form instanceof Bitrix24Failure ? form : await withRetries(call, sendOne, retries);
	};
}
