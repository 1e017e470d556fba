import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { Bitrix24Failure, type MessageContext } from '../shared/errors';
import { METHODS } from '../shared/methods';
import { restCallerFor, type CallOutcome, type RestCaller } from '../shared/restCalls';
import { failedItem, sentMessageItem } from '../shared/results';
import { runStateOf, type RunState } from '../shared/runState';
import {
	validateMessageDraft,
	validateMessageRequest,
	type MessageDraft,
	type MessageRequest,
} from '../shared/validation';

/** How one item ended: the message posted, or why not. */
type ItemOutcome = { messageId: number; request: MessageRequest } | { failure: Bitrix24Failure; context: MessageContext };

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

interface SendOptions {
	/** 1 sends every call alone. */
	batchSize: number;
	addSenderToChat: boolean;
}

/** The node's "Options": messages go out in batches of 50 unless the user says otherwise. */
function optionsOf(context: IExecutePaginationFunctions): SendOptions {
	const options = context.getNodeParameter('options', {}) as IDataObject;
	const size = Number(options.batchSize ?? 50);
	return {
		batchSize: options.sendInBatches === false ? 1 : Number.isInteger(size) ? Math.min(50, Math.max(1, size)) : 50,
		addSenderToChat: options.addSenderToChat === true,
	};
}

/** The message ID in Bitrix24's `result`, or a failure when there is none. */
function messageIdOf(outcome: CallOutcome): number | Bitrix24Failure {
	if (outcome instanceof Bitrix24Failure) return outcome;
	const messageId = typeof outcome.result === 'string' ? Number(outcome.result) : outcome.result;
	if (typeof messageId !== 'number' || !Number.isSafeInteger(messageId) || messageId <= 0) {
		return new Bitrix24Failure('UNEXPECTED_RESPONSE', 'The answer carried no message ID.', 200, undefined, METHODS.sendMessage);
	}
	return messageId;
}

/** The CRM entity's most recent chat whose dialog is in progress, from `imopenlines.crm.chat.get`. */
async function activeChatOf(call: RestCaller, draft: MessageDraft): Promise<number | Bitrix24Failure> {
	const outcome = await call({
		method: METHODS.activeChats,
		params: { CRM_ENTITY_TYPE: draft.CRM_ENTITY_TYPE, CRM_ENTITY: draft.CRM_ENTITY },
	});
	// A failed lookup posted nothing, whatever the answer was.
	if (outcome instanceof Bitrix24Failure) return outcome.beforeSending();
	const chatIds = (Array.isArray(outcome.result) ? outcome.result : [])
		.map((chat) => Number((chat as IDataObject).CHAT_ID))
		.filter((chatId) => Number.isSafeInteger(chatId) && chatId > 0);
	if (chatIds.length === 0) {
		return new Bitrix24Failure('NO_ACTIVE_CHAT', 'No chat of this CRM entity has a dialog in progress.', null);
	}
	// Chat IDs grow with time, so the largest is the most recent.
	return Math.max(...chatIds);
}

/** Sends the message; on CANCELED (the sender is not in the chat) adds the sender and sends once more. */
async function deliver(call: RestCaller, request: MessageRequest, options: SendOptions): Promise<number | Bitrix24Failure> {
	const lane = `chat:${request.CHAT_ID}`;
	const send = async () => messageIdOf(await call({ method: METHODS.sendMessage, params: { ...request }, lane }));
	const outcome = await send();
	if (!(outcome instanceof Bitrix24Failure) || outcome.code !== 'CANCELED' || !options.addSenderToChat) {
		return outcome;
	}
	// CANCELED means nothing was posted, so sending again cannot duplicate the message.
	const added = await call({
		method: METHODS.addChatUser,
		params: {
			CRM_ENTITY_TYPE: request.CRM_ENTITY_TYPE,
			CRM_ENTITY: request.CRM_ENTITY,
			USER_ID: request.USER_ID,
			CHAT_ID: request.CHAT_ID,
		},
		lane,
	});
	return added instanceof Bitrix24Failure ? added.beforeSending() : await send();
}

/** Validates the item, finds its chat when asked to, and sends its message once. */
async function sendItem(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	run: RunState<ItemOutcome>,
): Promise<ItemOutcome> {
	const body = (requestData.options.body ?? {}) as IDataObject;
	const toActiveChat = context.getNodeParameter('chatSource', 'specificChat') === 'activeChat';
	let draft: MessageDraft & { CHAT_ID?: number };
	try {
		draft = toActiveChat ? validateMessageDraft(body) : validateMessageRequest(body);
	} catch (failure) {
		return { failure: failure as Bitrix24Failure, context: contextOf(body) };
	}
	const options = optionsOf(context);
	const call = restCallerFor(context, requestData, run, options.batchSize);
	const sendToChat = async (): Promise<ItemOutcome> => {
		// In batch mode this is the item's first call, made in the tick the run's calls gather in.
		const chatId = draft.CHAT_ID ?? (await activeChatOf(call, draft));
		if (chatId instanceof Bitrix24Failure) return { failure: chatId, context: contextOf(body) };
		const request: MessageRequest = { ...draft, CHAT_ID: chatId };
		const outcome = await deliver(call, request, options);
		return outcome instanceof Bitrix24Failure
			? { failure: outcome, context: { ...contextOf(body), chatId } }
			: { messageId: outcome, request };
	};
	if (options.batchSize > 1) return await sendToChat();
	// One request per message: each waits for the one before it to the same chat (or CRM entity, whose
	// chat is found at run time); batches keep that order themselves.
	const lane = draft.CHAT_ID !== undefined ? `chat:${draft.CHAT_ID}` : `entity:${draft.CRM_ENTITY_TYPE}:${draft.CRM_ENTITY}`;
	return await run.lanes.inOrder([lane], sendToChat);
}

/**
 * Runs one item of Send Message (n8n calls it as the operation's routing function, with the request
 * it built from the parameters): invalid input fails the item before anything is sent; otherwise the
 * message goes out once, alone or in a batch, to the chat given or to the CRM entity's active chat,
 * and the item comes back as the sent message or its failure. When n8n runs the node again in the
 * same execution (Settings > Retry On Fail), an item whose message was or may have been posted comes
 * back as it did the first time; only items refused or never sent are tried again.
 */
export async function sendMessage(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	const run = runStateOf<ItemOutcome>(this);
	const itemIndex = this.getItemIndex();
	const previous = run.outcomes.get(itemIndex);
	const mayHavePosted = previous !== undefined && !('failure' in previous && previous.failure.delivery === 'not_sent');
	const outcome = mayHavePosted ? previous : await sendItem(this, requestData, run);
	run.outcomes.set(itemIndex, outcome);
	return 'failure' in outcome
		? [failedItem(this, outcome.failure, outcome.context)]
		: [sentMessageItem(this, outcome.request, outcome.messageId)];
}
