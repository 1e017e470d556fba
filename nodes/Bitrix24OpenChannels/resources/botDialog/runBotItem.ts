import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

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
	// One request per call, paced by the credential's budget: a bot answers one customer message at a time, and
	// a dialog's calls (a reply, then the hand-over) must reach Bitrix24 in the order the items give them.
	const rest = restSenderFor(context, requestData, run, 1);
	const lane = `chat:${call.chatId}`;
	const outcome = await run.lanes.inOrder(
		[lane],
		async () => await rest({ method: call.method, params: call.params, lane }),
	);
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
