import { sleep } from 'n8n-workflow';
import type { DeclarativeRestApiSettings, IDataObject, IExecuteData, IExecutePaginationFunctions } from 'n8n-workflow';

import { batchCommandFailure, Bitrix24Failure } from './errors';
import { callRestMethod, forMethod, portalOf, toBitrix24Failure } from './transport';

/** What one REST command came to: Bitrix24's `result`, or why it failed. */
export type CallOutcome = { result: unknown } | Bitrix24Failure;

/** Sends one REST command for an item: alone, or gathered with the run's other items into batch calls. */
export type RestCaller = (method: string, params: IDataObject) => Promise<CallOutcome>;

/**
 * One `batch` command: the method name and its parameters as a query string. encodeURIComponent keeps
 * every character of a message (Unicode, new lines, & = + % #) intact through Bitrix24's parse_str.
 */
export function batchCommand(method: string, params: IDataObject): string {
	const query = Object.entries(params)
		.map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`)
		.join('&');
	return `${method}?${query}`;
}

function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one command's outcome out of a `batch` result (`result.result[key]` or `result.result_error[key]`). */
export function batchOutcome(batchResult: unknown, key: string): CallOutcome {
	const results = isObject(batchResult) && isObject(batchResult.result) ? batchResult.result : {};
	const errors = isObject(batchResult) && isObject(batchResult.result_error) ? batchResult.result_error : {};
	const error = errors[key];
	if (isObject(error)) {
		return batchCommandFailure(
			String(error.error ?? 'UNKNOWN'),
			typeof error.error_description === 'string' ? error.error_description : '',
			typeof error.argument === 'string' ? error.argument : undefined,
		);
	}
	return key in results
		? { result: results[key] }
		: new Bitrix24Failure('UNEXPECTED_RESPONSE', 'The batch answer left this command out.', 200);
}

async function callAlone(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	method: string,
	params: IDataObject,
): Promise<CallOutcome> {
	try {
		const result = await callRestMethod(context, forMethod(requestData, method, params), await portalOf(context));
		return { result };
	} catch (error) {
		return toBitrix24Failure(error);
	}
}

interface PendingCall {
	key: string;
	context: IExecutePaginationFunctions;
	requestData: DeclarativeRestApiSettings.ResultOptions;
	method: string;
	params: IDataObject;
	settle: (outcome: CallOutcome) => void;
}

/**
 * Gathers the REST calls of one node run into `batch` calls. n8n starts every item's request in one
 * synchronous loop, so the calls made before the next tick of the event loop go out together, in
 * batches of `batchSize` (each counts as one request against the portal's limit).
 */
class RestBatcher {
	private pending: PendingCall[] = [];

	private calls = 0;

	constructor(private readonly batchSize: number) {}

	call(
		context: IExecutePaginationFunctions,
		requestData: DeclarativeRestApiSettings.ResultOptions,
		method: string,
		params: IDataObject,
	): Promise<CallOutcome> {
		return new Promise((settle) => {
			if (this.pending.length === 0) void sleep(0).then(async () => await this.flush());
			const key = `item${context.getItemIndex()}_${++this.calls}`;
			this.pending.push({ key, context, requestData, method, params, settle });
		});
	}

	private async flush(): Promise<void> {
		const calls = this.pending;
		this.pending = [];
		const chunks: PendingCall[][] = [];
		for (let start = 0; start < calls.length; start += this.batchSize) {
			chunks.push(calls.slice(start, start + this.batchSize));
		}
		await Promise.all(chunks.map(async (chunk) => await this.send(chunk)));
	}

	private async send(chunk: PendingCall[]): Promise<void> {
		const [first] = chunk;
		if (chunk.length === 1) {
			// A lone call goes out as itself: same budget, no batch envelope to unwrap.
			first.settle(await callAlone(first.context, first.requestData, first.method, first.params));
			return;
		}
		const cmd: IDataObject = {};
		for (const call of chunk) cmd[call.key] = batchCommand(call.method, call.params);
		const outcome = await callAlone(first.context, first.requestData, 'batch', { halt: 0, cmd });
		// A batch call that failed as a whole (after any safe retries) fails every command in it.
		for (const call of chunk) {
			call.settle(outcome instanceof Bitrix24Failure ? outcome : batchOutcome(outcome.result, call.key));
		}
	}
}

/** One batcher per node run: every item of a run shares n8n's execute data object. */
const batchers = new WeakMap<IExecuteData, RestBatcher>();

/**
 * How this item sends its REST calls. In batch mode the first call must be made before the item's
 * first await, so that the whole run's calls gather in one tick.
 */
export function restCallerFor(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	batchSize: number,
): RestCaller {
	if (batchSize <= 1) {
		return async (method, params) => await callAlone(context, requestData, method, params);
	}
	const run = context.getExecuteData();
	let batcher = batchers.get(run);
	if (!batcher) {
		batcher = new RestBatcher(batchSize);
		batchers.set(run, batcher);
	}
	const shared = batcher;
	return async (method, params) => await shared.call(context, requestData, method, params);
}
