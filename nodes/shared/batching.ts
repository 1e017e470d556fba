import { sleep } from 'n8n-workflow';
import type { IDataObject } from 'n8n-workflow';

import { batchCommandFailure, Bitrix24Failure, leaksInBatch } from './errors';
import { isObject } from './json';
import { METHODS } from './methods';
import type { OrderedLanes } from './runState';
import type { RestOutcome } from './transport';

/** Bitrix24 runs at most 50 commands per batch call. */
export const MAX_BATCH_COMMANDS = 50;

/**
 * The most a batch call's commands may weigh (percent-encoded, so characters are bytes): 50 messages of
 * 20,000 emoji would make a 12 MB body, which proxies in front of portals refuse. Heavier runs split.
 */
export const MAX_BATCH_BYTES = 1_000_000;

/** `key=value` pairs of one parameter, nested values in PHP's bracket form (`fields[keyboard][0][TEXT]=...`). */
function queryPairs(key: string, value: unknown): string[] {
	if (Array.isArray(value))
		return value.flatMap((item, index) => queryPairs(`${key}[${index}]`, item));
	if (isObject(value))
		return Object.entries(value).flatMap(([name, item]) => queryPairs(`${key}[${name}]`, item));
	return [`${key}=${encodeURIComponent(String(value))}`];
}

/**
 * One `batch` command: the method name and its parameters as a query string. encodeURIComponent keeps
 * every character of a message (Unicode, new lines, & = + % #) intact through Bitrix24's parse_str, which also
 * rebuilds nested parameters from their bracketed keys.
 */
export function batchCommand(method: string, params: IDataObject): string {
	const query = Object.entries(params)
		.flatMap(([key, value]) => queryPairs(key, value))
		.join('&');
	return `${method}?${query}`;
}

/**
 * Text Bitrix24's `batch` would rewrite: before a command runs, every parameter value is scanned for
 * `$<kind>` and the run of characters up to the next whitespace (PHP's: space, tab, \n, \v, \f, \r); a `[...]` in
 * that run makes it a reference to earlier commands' answers, replaced with what it reaches
 * (rest_util.php::CRestUtil::ParseBatchQuery). No encoding escapes it, and the kinds grow as commands fail, so
 * any `$` and letter followed by a bracketed segment counts. Direct calls are never rewritten.
 */
const BATCH_REFERENCE = /\$[A-Za-z_][^ \t\n\v\f\r]*\[[^\] \t\n\v\f\r]+\]/;

/** Whether a call's parameters (nested ones too) hold text a batch would alter, so the call must go as itself. */
export function rewrittenInBatch(params: IDataObject | unknown[]): boolean {
	return Object.values(params).some((value: unknown) =>
		typeof value === 'string'
			? BATCH_REFERENCE.test(value)
			: (isObject(value) || Array.isArray(value)) && rewrittenInBatch(value as IDataObject),
	);
}

/**
 * Reads one command's outcome out of a `batch` result (`result.result[key]` with its `result_time[key]`, or
 * `result.result_error[key]`).
 */
export function batchOutcome(batchResult: unknown, key: string, method: string): RestOutcome {
	const part = (name: string) =>
		isObject(batchResult) && isObject(batchResult[name]) ? batchResult[name] : {};
	const results = part('result');
	const errors = part('result_error');
	const error = errors[key];
	if (isObject(error)) {
		return batchCommandFailure(
			String(error.error ?? 'UNKNOWN'),
			typeof error.error_description === 'string' ? error.error_description : '',
			method,
			typeof error.argument === 'string' ? error.argument : undefined,
		);
	}
	return key in results
		? { result: results[key], time: part('result_time')[key] }
		: new Bitrix24Failure(
				'UNEXPECTED_RESPONSE',
				'The batch answer left this command out.',
				200,
				undefined,
				method,
			);
}

/** One REST call of an item; calls with the same lane (a chat) reach the portal in the order they were made. */
export interface RestRequest {
	method: string;
	params: IDataObject;
	lane?: string;
}

interface PendingCall extends RestRequest {
	key: string;
	command: string;
	/** Goes as its own call: a batch would rewrite its text. */
	alone: boolean;
	settle: (outcome: RestOutcome) => void;
}

/** Sends one REST call as itself (a lone call, or a whole batch call). */
export type SendOne = (method: string, params: IDataObject) => Promise<RestOutcome>;

/** Which outcomes are worth sending again (Bitrix24 did not act), and how long to wait first. */
export interface RetryPolicy {
	/** After an outcome of `method` (attempt 1, 2...): the wait before sending it again, or undefined to keep it. */
	retryAfter(method: string, outcome: RestOutcome, attempt: number): Promise<number | undefined>;
	pause(ms: number): Promise<void>;
}

/**
 * Gathers the REST calls of one node run into `batch` calls. n8n starts every item's request in one
 * synchronous loop, so the calls made before the next tick of the event loop go out together, in
 * batches of `batchSize` (each counts as one request against the portal's limit). A batch waits for
 * earlier batches with a message to the same chat; Bitrix24 runs one batch's commands in order.
 */
export class RestBatcher {
	private pending: PendingCall[] = [];

	private calls = 0;

	constructor(
		private readonly sendOne: SendOne,
		private readonly batchSize: number,
		private readonly lanes: OrderedLanes,
		private readonly retries: RetryPolicy,
	) {}

	async call(call: RestRequest, itemIndex: number): Promise<RestOutcome> {
		let command: string;
		try {
			command = batchCommand(call.method, call.params);
		} catch {
			// Text that cannot be percent-encoded (half a surrogate pair) fails its own item, never the batch.
			return new Bitrix24Failure(
				'ERROR_ARGUMENT',
				'A parameter holds text that cannot be encoded.',
				null,
				undefined,
				call.method,
			);
		}
		return await new Promise((settle) => {
			if (this.pending.length === 0) void sleep(0).then(async () => await this.flush());
			const key = `item${itemIndex}_${++this.calls}`;
			this.pending.push({ ...call, key, command, alone: rewrittenInBatch(call.params), settle });
		});
	}

	private async flush(): Promise<void> {
		const calls = this.pending;
		this.pending = [];
		await Promise.all(
			this.chunksOf(calls).map(async (chunk) => {
				const lanes = [
					...new Set(chunk.flatMap((call) => (call.lane === undefined ? [] : [call.lane]))),
				];
				try {
					await this.lanes.inOrder(lanes, async () => await this.send(chunk));
				} catch {
					// Whatever went wrong, no item may wait forever; a settled call ignores this.
					const failure = new Bitrix24Failure(
						'DELIVERY_UNKNOWN',
						'the batch call failed unexpectedly',
						null,
					);
					for (const call of chunk) call.settle(failure.of(call.method));
				}
			}),
		);
	}

	/**
	 * Input order, at most `batchSize` commands and MAX_BATCH_BYTES per chunk; a call that must go alone is a
	 * chunk of its own in its place, so messages to a chat still leave in input order.
	 */
	private chunksOf(calls: PendingCall[]): PendingCall[][] {
		const chunks: PendingCall[][] = [];
		let chunk: PendingCall[] = [];
		let bytes = 0;
		const close = () => {
			if (chunk.length > 0) chunks.push(chunk);
			chunk = [];
			bytes = 0;
		};
		for (const call of calls) {
			if (call.alone) {
				close();
				chunks.push([call]);
				continue;
			}
			if (
				chunk.length === this.batchSize ||
				(chunk.length > 0 && bytes + call.command.length > MAX_BATCH_BYTES)
			)
				close();
			chunk.push(call);
			bytes += call.command.length;
		}
		close();
		return chunks;
	}

	/**
	 * Sends a chunk and settles its calls; calls that may be sent again go again together after the wait,
	 * still before any later batch to their chats.
	 */
	private async send(chunk: PendingCall[]): Promise<void> {
		let pending = chunk;
		for (let attempt = 1; pending.length > 0; attempt++) {
			const outcomes = await this.sendChunk(pending);
			const again: PendingCall[] = [];
			let wait = 0;
			for (const [index, call] of pending.entries()) {
				const retryWait = await this.retries.retryAfter(call.method, outcomes[index], attempt);
				if (retryWait === undefined) {
					call.settle(outcomes[index]);
				} else {
					again.push(call);
					wait = Math.max(wait, retryWait);
				}
			}
			if (again.length > 0) await this.retries.pause(wait);
			pending = again;
		}
	}

	/** One call for the chunk: the lone call as itself, several as a batch call; an outcome per call. */
	private async sendChunk(chunk: PendingCall[]): Promise<RestOutcome[]> {
		if (chunk.length === 1) {
			// A lone call goes out as itself: same budget, no batch envelope to unwrap.
			return [await this.sendOne(chunk[0].method, chunk[0].params)];
		}
		const cmd: IDataObject = {};
		for (const call of chunk) cmd[call.key] = call.command;
		const outcome = await this.sendOne(METHODS.batch, { halt: 0, cmd });
		// A batch call that failed as a whole fails every command in it, with its verdict.
		if (outcome instanceof Bitrix24Failure) return chunk.map((call) => outcome.of(call.method));
		return await this.withOwnReasons(
			chunk,
			chunk.map((call) => batchOutcome(outcome.result, call.key, call.method)),
		);
	}

	/**
	 * After a CANCELED (or another messenger refusal) Bitrix24 reports every later failing command of the batch
	 * with that code and text, whatever went wrong with it. Those failures are asked again alone, one by one in
	 * input order, to learn their own reason: a command refused so posted nothing, so this cannot post twice.
	 */
	private async withOwnReasons(
		chunk: PendingCall[],
		outcomes: RestOutcome[],
	): Promise<RestOutcome[]> {
		const leak = outcomes.findIndex(
			(outcome) => outcome instanceof Bitrix24Failure && leaksInBatch(outcome),
		);
		if (leak === -1) return outcomes;
		const own = [...outcomes];
		for (let index = leak + 1; index < chunk.length; index++) {
			const outcome = outcomes[index];
			if (outcome instanceof Bitrix24Failure && outcome.delivery === 'not_sent') {
				own[index] = await this.sendOne(chunk[index].method, chunk[index].params);
			}
		}
		return own;
	}
}
