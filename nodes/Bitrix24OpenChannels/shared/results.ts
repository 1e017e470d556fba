import { NodeApiError } from 'n8n-workflow';
import type { IExecuteSingleFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';

import { Bitrix24Failure, describeFailure, hintFor, type MessageContext } from './errors';
import type { MessageRequest } from './validation';

export function sentMessageItem(
	context: IExecuteSingleFunctions,
	request: MessageRequest,
	messageId: number,
): INodeExecutionData {
	return {
		json: {
			messageId,
			chatId: request.CHAT_ID,
			crmEntityType: request.CRM_ENTITY_TYPE,
			crmEntityId: request.CRM_ENTITY,
			userId: request.USER_ID,
		},
		pairedItem: { item: context.getItemIndex() },
	};
}

/**
 * The item's failure, as the user's On Error setting wants it:
 * - Stop Workflow: a NodeApiError naming the item;
 * - Continue (using error output): only `error` and `details`, so n8n itself moves the item to the
 *   error output and merges the input fields back in (it does so only for items of exactly this shape);
 * - Continue (regular output): n8n merges nothing there, so the input fields are kept here.
 */
export function failedItem(
	context: IExecuteSingleFunctions,
	failure: Bitrix24Failure,
	messageContext: MessageContext,
): INodeExecutionData {
	const itemIndex = context.getItemIndex();
	const error = describeFailure(failure, messageContext);
	if (!context.continueOnFail()) {
		throw new NodeApiError(context.getNode(), failure.details as JsonObject, {
			message: error,
			description: `${hintFor(failure)} (Bitrix24 code ${failure.code}, item ${itemIndex})`,
			httpCode: failure.httpStatus === null ? undefined : String(failure.httpStatus),
			itemIndex,
		});
	}
	const ownFields = context.getNode().onError === 'continueErrorOutput' ? {} : context.getInputData().json;
	return {
		json: { ...ownFields, error, details: failure.details },
		pairedItem: { item: itemIndex },
	};
}
