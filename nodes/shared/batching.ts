import { sleep } from 'n8n-workflow';
import type { IDataObject } from 'n8n-workflow';

import { batchCommandFailure, Bitrix24Failure, leaksInBatch } from './errors';
import { isObject } from './json';
import { METHODS } from './methods';
import { LONE_SURROGATE } from './validation';
import type { OrderedLanes } from './runState';
import type { RestOutcome } from './transport';

/** Bitrix24 runs at most 50 commands per batch call. */
export const MAX_BATCH_COMMANDS = 50;

/**
 * The most a batch call's commands may weigh (percent-encoded, so characters are bytes): 50 messages of
 * 20,000 emoji would make a 12 MB body, which proxies in front of portals refuse. Heavier runs split.
 */
export const MAX_BATCH_BYTES = 1_000_000;

/**
 * What PHP's parse_str keeps of a query (php.ini defaults): Bitrix24 parses every batch command with it
 * (rest_util.php::CRestUtil::ParseBatchQuery). Pairs past max_input_vars are dropped, so the webhook credential's
 * bot token, appended last, needs one; a parameter nested deeper than max_input_nesting_level is dropped whole.
 */
const MAX_INPUT_VARS = 1000;
const MAX_NESTING = 64;

/** A key or text in an error: quoted, cut short. */
const quoted = (text: string) => {
	const shown = JSON.stringify(text);
	return shown.length > 40 ? `${shown.slice(0, 37)}...` : shown;
};

/**
 * Why parse_str would not read the key back as given: it url-decodes a whole key before it reads its brackets, so no
 * encoding carries a `[` or `]` of a key, and a NUL ends the key; it reads `[]` and a key of one whitespace as "next
 * index"; in a parameter's name (no path) it drops leading spaces and turns spaces and dots into `_`. Half of a
 * surrogate pair cannot be sent at all.
 */
function keyProblem(key: string, path?: string): string | undefined {
	let problem: string | undefined;
	if (LONE_SURROGATE.test(key)) problem = 'holds half of an emoji or other character';
	else if (/[[\]\0]/.test(key)) problem = 'holds a bracket or a NUL character';
	else if (key === '') problem = 'is empty';
	else if (path !== undefined && /^[ \t\n\v\f\r]$/.test(key)) problem = 'is a single space';
	else if (path === undefined && /[ .]/.test(key)) problem = 'holds a space or a dot';
	if (problem === undefined) return undefined;
	return path === undefined
		? `The parameter name ${quoted(key)} cannot be read by Bitrix24 as given: it ${problem}`
		: `The parameter ${path} has the key ${quoted(key)}, which Bitrix24 cannot read as given: it ${problem}`;
}

/** The `key=value` pairs of a call's parameters, and whether parse_str reads them back as the call's JSON gives them. */
interface Pairs {
	pairs: string[];
	faithful: boolean;
}

/**
 * Adds the `key=value` pairs of one parameter, key and value percent-encoded, nested values in PHP's bracket form;
 * or says why the parameter cannot reach Bitrix24 as given.
 */
function addPairs(
	out: Pairs,
	key: string,
	path: string,
	value: unknown,
	depth: number,
): string | undefined {
	if (Array.isArray(value) || isObject(value)) {
		const entries = Object.entries(value);
		// A query has no form for an empty list or object, and parse_str drops what is nested too deep.
		if (entries.length === 0 || depth >= MAX_NESTING) out.faithful = false;
		for (const [name, item] of entries) {
			const problem =
				keyProblem(name, path) ??
				addPairs(out, `${key}[${encodeURIComponent(name)}]`, `${path}[${name}]`, item, depth + 1);
			if (problem !== undefined) return problem;
		}
		return undefined;
	}
	if (typeof value === 'string') {
		const broken = LONE_SURROGATE.exec(value);
		if (broken)
			return `The parameter ${path} has half of an emoji or other character at position ${broken.index + 1} (the text was probably cut inside it)`;
	} else if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
		// A command carries text: a whole number reads back the same, true, 1.5 or null would not.
		out.faithful = false;
	}
	out.pairs.push(`${key}=${encodeURIComponent(String(value))}`);
	return undefined;
}

/** A call's parameters as one `batch` command. */
export interface BatchForm {
	/** The method name and the parameters as a query string. */
	command: string;
	/**
	 * Whether Bitrix24 runs the command with exactly the parameters the call's own JSON body gives; a call whose
	 * command would differ goes as itself, also in batch mode.
	 */
	faithful: boolean;
}

/**
 * The call as a `batch` command, or why its parameters cannot reach Bitrix24 as given (ERROR_ARGUMENT, naming the
 * parameter): then the call fails alone too, so both sending modes deliver the same parameters or nothing.
 * encodeURIComponent keeps every character of keys and values (Unicode, new lines, & = + % # ?) intact through
 * parse_str, which rebuilds nested parameters from their bracketed keys.
 */
export function batchFormOf(method: string, params: IDataObject): BatchForm | Bitrix24Failure {
	const out: Pairs = { pairs: [], faithful: true };
	for (const [name, value] of Object.entries(params)) {
		const problem = keyProblem(name) ?? addPairs(out, encodeURIComponent(name), name, value, 0);
		if (problem !== undefined)
			return new Bitrix24Failure('ERROR_ARGUMENT', problem, null, name, method);
	}
	return {
		command: `${method}?${out.pairs.join('&')}`,
		faithful: out.faithful && out.pairs.length < MAX_INPUT_VARS && !rewrittenInBatch(params),
	};
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
	/** Goes as its own call: a batch would carry it differently (or rewrite its text). */
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
		const form = batchFormOf(call.method, call.params);
		// Parameters Bitrix24 cannot be given as they are fail their own item, never the batch.
		if (form instanceof Bitrix24Failure) return form;
		return await new Promise((settle) => {
			if (this.pending.length === 0) void sleep(0).then(async () => await this.flush());
			const key = `item${itemIndex}_${++this.calls}`;
			this.pending.push({ ...call, key, command: form.command, alone: !form.faithful, settle });
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
