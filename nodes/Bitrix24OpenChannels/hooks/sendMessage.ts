import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { Bitrix24Failure, type MessageContext } from '../shared/errors';
import { failedItem, sentMessageItem } from '../shared/results';
import { callRestMethod } from '../shared/transport';
import { validateMessageRequest, type MessageRequest } from '../shared/validation';

/** Whatever the raw parameters say about the message, to phrase an error about invalid input. */
function contextOf(body: IDataObject): MessageContext {
	const id = (value: unknown) => (Number.isSafeInteger(Number(value)) && Number(value) > 0 ? Number(value) : undefined);
	return {
		crmEntityType: typeof body.CRM_ENTITY_TYPE === 'string' ? body.CRM_ENTITY_TYPE.toLowerCase() : undefined,
		crmEntityId: id(body.CRM_ENTITY),
		userId: id(body.USER_ID),
		chatId: id(body.CHAT_ID),
	};
}

function contextOfRequest(request: MessageRequest): MessageContext {
	return {
		crmEntityType: request.CRM_ENTITY_TYPE,
		crmEntityId: request.CRM_ENTITY,
		userId: request.USER_ID,
		chatId: request.CHAT_ID,
	};
}

function messageIdOf(result: unknown): number {
	const messageId = typeof result === 'string' ? Number(result) : result;
	if (typeof messageId !== 'number' || !Number.isSafeInteger(messageId) || messageId <= 0) {
		throw new Bitrix24Failure('UNEXPECTED_RESPONSE', 'The answer carried no message ID.', 200);
	}
	return messageId;
}

/**
 * Runs one item of Send Message (n8n calls it as the operation's routing function, with the request
 * it built from the parameters): invalid input fails the item before anything is sent; otherwise the
 * message goes out once, and the item comes back as the sent message or as its failure.
 */
export async function sendMessage(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	const body = (requestData.options.body ?? {}) as IDataObject;
	let request: MessageRequest;
	try {
		request = validateMessageRequest(body);
	} catch (failure) {
		return [failedItem(this, failure as Bitrix24Failure, contextOf(body))];
	}
	requestData.options.body = { ...request };
	try {
		const result = await callRestMethod(this, requestData);
		return [sentMessageItem(this, request, messageIdOf(result))];
	} catch (failure) {
		return [failedItem(this, failure as Bitrix24Failure, contextOfRequest(request))];
	}
}
