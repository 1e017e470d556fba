import { sleep } from 'n8n-workflow';
import type { DeclarativeRestApiSettings, IDataObject, IExecutePaginationFunctions, IExecuteData } from 'n8n-workflow';

import { batchCommandFailure, Bitrix24Failure } from './errors';
import { budgetOf, callRestMethod, toBitrix24Failure } from './transport';
import type { MessageRequest } from './validation';

const METHOD = 'imopenlines.crm.message.add';

/** What one message came to: the new message's ID, or why it failed. */
export type SendOutcome = number | Bitrix24Failure;

/** The message ID in Bitrix24's `result`, or a failure when there is none. */
export function messageIdOf(result: unknown): SendOutcome {
	const messageId = typeof result === 'string' ? Number(result) : result;
	if (typeof messageId !== 'number' || !Number.isSafeInteger(messageId) || messageId <= 0) {
		return new Bitrix24Failure('UNEXPECTED_RESPONSE', 'The answer carried no message ID.', 200);
	}
	return messageId;
}

/**
 * One `batch` command: the method name and its parameters as a query string. encodeURIComponent keeps
 * every character of the message (Unicode, new lines, & = + % #) intact through Bitrix24's parse_str.
 */
export function batchCommand(request: MessageRequest): string {
	const query = Object.entries(request)
		.map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`)
		.join('&');
	return `${METHOD}?${query}`;
}

function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one command's outcome out of a `batch` result (`result.result[key]` or `result.result_error[key]`). */
export function batchOutcome(batchResult: unknown, key: string): SendOutcome {
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
	return key in results ? messageIdOf(results[key]) : new Bitrix24Failure('UNEXPECTED_RESPONSE', 'The batch answer left this message out.', 200);
}

interface PendingMessage {
	key: string;
	context: IExecutePaginationFunctions;
	requestData: DeclarativeRestApiSettings.ResultOptions;
	request: MessageRequest;
	settle: (outcome: SendOutcome) => void;
}

/**
 * Gathers the messages of one node run into `batch` calls. n8n starts every item's request in one
 * synchronous loop, so the items that arrive before the next tick of the event loop go out together,
 * in batches of `batchSize` (each counts as one request against the portal's limit).
 */
class MessageBatcher {
	private pending: PendingMessage[] = [];

	constructor(private readonly batchSize: number) {}

	send(
		context: IExecutePaginationFunctions,
		requestData: DeclarativeRestApiSettings.ResultOptions,
		request: MessageRequest,
	): Promise<SendOutcome> {
		return new Promise((settle) => {
			if (this.pending.length === 0) void sleep(0).then(async () => await this.flush());
			this.pending.push({ key: `item${context.getItemIndex()}`, context, requestData, request, settle });
		});
	}

	private async flush(): Promise<void> {
		const messages = this.pending;
		this.pending = [];
		const chunks: PendingMessage[][] = [];
		for (let start = 0; start < messages.length; start += this.batchSize) {
			chunks.push(messages.slice(start, start + this.batchSize));
		}
		await Promise.all(chunks.map(async (chunk) => await this.sendChunk(chunk)));
	}

	private async sendChunk(chunk: PendingMessage[]): Promise<void> {
		const [first] = chunk;
		try {
			const budget = await budgetOf(first.context);
			if (chunk.length === 1) {
				// A lone message goes out as itself: same budget, no batch envelope to unwrap.
				first.settle(messageIdOf(await callRestMethod(first.context, first.requestData, budget)));
				return;
			}
			const cmd: IDataObject = {};
			for (const message of chunk) cmd[message.key] = batchCommand(message.request);
			const batchRequest = {
				...first.requestData,
				options: { ...first.requestData.options, url: 'batch.json', body: { halt: 0, cmd } },
			};
			const result = await callRestMethod(first.context, batchRequest, budget);
			for (const message of chunk) message.settle(batchOutcome(result, message.key));
		} catch (error) {
			// The whole batch failed (after any safe retries): every message in it shares the reason.
			const failure = toBitrix24Failure(error);
			for (const message of chunk) message.settle(failure);
		}
	}
}

/** One batcher per node run: every item of a run shares n8n's execute data object. */
const batchers = new WeakMap<IExecuteData, MessageBatcher>();

export function batcherFor(context: IExecutePaginationFunctions, batchSize: number): MessageBatcher {
	const run = context.getExecuteData();
	let batcher = batchers.get(run);
	if (!batcher) {
		batcher = new MessageBatcher(batchSize);
		batchers.set(run, batcher);
	}
	return batcher;
}
