import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { batcherFor, messageIdOf, type SendOutcome } from '../shared/batching';
import { Bitrix24Failure, type MessageContext } from '../shared/errors';
import { failedItem, sentMessageItem } from '../shared/results';
import { budgetOf, callRestMethod, toBitrix24Failure } from '../shared/transport';
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

/** The node's "Options": messages go out in batches of 50 unless the user says otherwise. */
function batchSizeOf(context: IExecutePaginationFunctions): number {
	const options = context.getNodeParameter('options', {}) as IDataObject;
	if (options.sendInBatches === false) return 1;
	const size = Number(options.batchSize ?? 50);
	return Number.isInteger(size) ? Math.min(50, Math.max(1, size)) : 50;
}

async function sendAlone(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<SendOutcome> {
	try {
		return messageIdOf(await callRestMethod(context, requestData, await budgetOf(context)));
	} catch (error) {
		return toBitrix24Failure(error);
	}
}

/**
 * Runs one item of Send Message (n8n calls it as the operation's routing function, with the request
 * it built from the parameters): invalid input fails the item before anything is sent; otherwise the
 * message goes out once, alone or in a batch, and the item comes back as the sent message or its failure.
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
	const batchSize = batchSizeOf(this);
	// Joining the batch must happen before the first await: the whole run's items gather in this tick.
	const outcome =
		batchSize > 1 ? await batcherFor(this, batchSize).send(this, requestData, request) : await sendAlone(this, requestData);
	if (outcome instanceof Bitrix24Failure) {
		return [failedItem(this, outcome, contextOf(body))];
	}
	return [sentMessageItem(this, request, outcome)];
}
