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
 * - Continue (using error output): only `error` and `details`, so n8n itself moves the item to the
 *   error output and merges the input fields back in (it does so only for items of exactly this shape);
 * - Continue (regular output): n8n merges nothing there, so the input fields are kept here.
 */
export function failureItem(
	context: IExecuteSingleFunctions,
	failure: Bitrix24Failure,
	target: MessageTarget,
): INodeExecutionData {
	const ownFields =
		context.getNode().onError === 'continueErrorOutput' ? {} : context.getInputData().json;
	return {
		json: { ...ownFields, error: describeFailure(failure, target), details: failure.details },
		pairedItem: { item: context.getItemIndex() },
	};
}
