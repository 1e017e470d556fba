import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { MAX_BATCH_COMMANDS } from '../../../shared/batching';
import { Bitrix24Failure, type MessageTarget } from '../../../shared/errors';
import { restSenderFor } from '../../../shared/restCalls';
import { failureItem, stopWorkflowError } from '../../../shared/results';
import { runStateOf } from '../../../shared/runState';

/** One Bot Dialog call of an item: the REST method and its parameters, and what errors should name. */
export interface BotCall {
	method: string;
	params: IDataObject;
	chatId: number;
	target: MessageTarget;
}

/** How one item ended: its output items, or why not. */
type BotOutcome = { output: IDataObject[] } | { failure: Bitrix24Failure; target: MessageTarget };

/** What an operation does with an item: its call (or the invalid field), and its output from the answer. */
export interface BotOperation {
	/** Validates the item's parameters; throws a Bitrix24Failure (ERROR_ARGUMENT) naming the field. */
	callOf: (context: IExecutePaginationFunctions) => BotCall;
	/** The output items from Bitrix24's `result`, or a failure when the answer is not what the method gives. */
	outputOf: (result: unknown, call: BotCall) => IDataObject[] | Bitrix24Failure;
}

/** The operation's Options: one batch call per 50 calls unless the user says otherwise; 1 sends each alone. */
function batchSizeOf(context: IExecutePaginationFunctions): number {
	const options = context.getNodeParameter('botOptions', {}) as IDataObject;
	if (options.sendInBatches === false) return 1;
	const size = Number(options.batchSize ?? MAX_BATCH_COMMANDS);
	return Number.isInteger(size)
		? Math.min(MAX_BATCH_COMMANDS, Math.max(1, size))
		: MAX_BATCH_COMMANDS;
}

async function actOnce(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	operation: BotOperation,
): Promise<BotOutcome> {
	let call: BotCall;
	try {
		call = operation.callOf(context);
	} catch (failure) {
		return { failure: failure as Bitrix24Failure, target: {} };
	}
	const run = runStateOf<BotOutcome>(context);
	const batchSize = batchSizeOf(context);
	const rest = restSenderFor(context, requestData, run, batchSize);
	// A dialog's calls reach Bitrix24 in input order: batches keep the order of their lanes themselves (and the
	// item's call must be made before any await so the run's calls gather); alone, each waits for the one before.
	const lane = `chat:${call.chatId}`;
	const send = async () => await rest({ method: call.method, params: call.params, lane });
	const outcome = batchSize > 1 ? await send() : await run.lanes.inOrder([lane], send);
	if (outcome instanceof Bitrix24Failure) return { failure: outcome, target: call.target };
	const output = operation.outputOf(outcome.result, call);
	return output instanceof Bitrix24Failure ? { failure: output, target: call.target } : { output };
}

/**
 * The per-item executor of a Bot Dialog operation (n8n calls it once per item through `send.paginate`, as
 * executeSendMessage explains). Invalid input fails the item before anything is sent; otherwise the call goes
 * out once. When n8n runs the node again in the same execution (Retry On Fail), an item whose call was or may
 * have been acted on comes back as it did the first time; only items refused or never sent are tried again.
 */
export async function runBotItem(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	operation: BotOperation,
): Promise<INodeExecutionData[]> {
	const run = runStateOf<BotOutcome>(context);
	const itemIndex = context.getItemIndex();
	const previous = run.outcomes.get(itemIndex);
	const mayHaveActed =
		previous !== undefined && !('failure' in previous && previous.failure.delivery === 'not_sent');
	const outcome = mayHaveActed ? previous : await actOnce(context, requestData, operation);
	run.outcomes.set(itemIndex, outcome);
	if ('failure' in outcome) {
		if (!context.continueOnFail())
			throw stopWorkflowError(context, outcome.failure, outcome.target);
		return [failureItem(context, outcome.failure, outcome.target)];
	}
	return outcome.output.map((json) => ({ json, pairedItem: { item: itemIndex } }));
}

/** Bitrix24's `true` of the hand-over methods, or UNEXPECTED_RESPONSE. */
export function confirmed(result: unknown, method: string): Bitrix24Failure | undefined {
	return result === true
		? undefined
		: new Bitrix24Failure(
				'UNEXPECTED_RESPONSE',
				'The answer was not true.',
				200,
				undefined,
				method,
			);
}
