import { NodeApiError } from 'n8n-workflow';
import type { IExecuteSingleFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';

import { Bitrix24Failure, describeFailure, hintFor, type MessageTarget } from './errors';

/** The error that stops the workflow (On Error = Stop Workflow): the sentence, the code, a hint and the item. */
export function stopWorkflowError(
	context: IExecuteSingleFunctions,
	failure: Bitrix24Failure,
	target: MessageTarget,
): NodeApiError {
	const itemIndex = context.getItemIndex();
	return new NodeApiError(context.getNode(), failure.details as JsonObject, {
		message: describeFailure(failure, target),
		description: `${hintFor(failure)} (Bitrix24 code ${failure.code}, item ${itemIndex})`,
		httpCode: failure.httpStatus === null ? undefined : String(failure.httpStatus),
		itemIndex,
	});
}

/**
 * The item's failure, as the user's On Error setting wants it when it continues:
 * - Continue (using error output): `error` and `details`, which n8n merges with the input fields on the
 *   error output. n8n 2.x moves an item there by its json keys (only error, message, details), n8n 1.x only
 *   by the item's own `error` (or json of exactly error, or error and message): so the item also carries
 *   the NodeApiError in `error`, not enumerable. Both lines then copy the item with a spread, which leaves
 *   it out; an item that kept it would have its json replaced by the error's message.
 * - Continue (regular output): n8n merges nothing there, so the input fields are kept here.
 */
export function failureItem(
	context: IExecuteSingleFunctions,
	failure: Bitrix24Failure,
	target: MessageTarget,
): INodeExecutionData {
	const toErrorOutput = context.getNode().onError === 'continueErrorOutput';
	const ownFields = toErrorOutput ? {} : context.getInputData().json;
	const item: INodeExecutionData = {
		json: { ...ownFields, error: describeFailure(failure, target), details: failure.details },
		pairedItem: { item: context.getItemIndex() },
	};
	// Without an input source (the node run on its own) n8n keeps the item as it is: no merge, no spread.
	if (toErrorOutput && context.getExecuteData().source !== null) {
		Object.defineProperty(item, 'error', {
			value: stopWorkflowError(context, failure, target),
			enumerable: false,
		});
	}
	return item;
}
