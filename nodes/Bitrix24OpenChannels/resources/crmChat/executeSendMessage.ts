import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { messageInputOf } from './inputFields';
import { MAX_BATCH_COMMANDS } from '../../../shared/batching';
import { Bitrix24Failure, type MessageTarget } from '../../../shared/errors';
import { isObject } from '../../../shared/json';
import { METHODS } from '../../../shared/methods';
import { restSenderFor, type RestOutcome, type RestSender } from '../../../shared/restCalls';
import { failureItem, stopWorkflowError } from '../../../shared/results';
import { runStateOf, type RunState } from '../../../shared/runState';
import {
	crmEntityTypeOf,
	positiveIdOf,
	validateMessageDraft,
	validateMessageRequest,
	type MessageDraft,
	type MessageRequest,
} from '../../../shared/validation';

/** How one item ended: the message posted, or why not. */
type ItemOutcome =
	| { messageId: number; request: MessageRequest }
	| { failure: Bitrix24Failure; target: MessageTarget };

/** Whatever the raw parameters say about the message, to phrase an error about invalid input. */
function targetOf(body: IDataObject): MessageTarget {
	return {
		crmEntityType: crmEntityTypeOf(body.CRM_ENTITY_TYPE),
		crmEntityId: positiveIdOf(body.CRM_ENTITY),
		userId: positiveIdOf(body.USER_ID),
		chatId: positiveIdOf(body.CHAT_ID),
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
	const size = Number(options.batchSize ?? MAX_BATCH_COMMANDS);
	const batchSize = Number.isInteger(size)
		? Math.min(MAX_BATCH_COMMANDS, Math.max(1, size))
		: MAX_BATCH_COMMANDS;
	return {
		batchSize: options.sendInBatches === false ? 1 : batchSize,
		addSenderToChat: options.addSenderToChat === true,
	};
}

/** The message ID in Bitrix24's `result`, or a failure when there is none. */
function messageIdOf(outcome: RestOutcome): number | Bitrix24Failure {
	if (outcome instanceof Bitrix24Failure) return outcome;
	const messageId = typeof outcome.result === 'string' ? Number(outcome.result) : outcome.result;
	if (typeof messageId !== 'number' || !Number.isSafeInteger(messageId) || messageId <= 0) {
		return new Bitrix24Failure(
			'UNEXPECTED_RESPONSE',
			'The answer carried no message ID.',
			200,
			undefined,
			METHODS.sendMessage,
		);
	}
	return messageId;
}

/**
 * The CRM entity's chat whose dialog in progress was active last: the first `imopenlines.crm.chat.get` lists
 * (Bitrix24 orders them by the session's last change, newest first: imopenlines/lib/crm/common.php::getChatsByCrmEntity).
 */
async function activeChatOf(
	rest: RestSender,
	draft: MessageDraft,
): Promise<number | Bitrix24Failure> {
	const outcome = await rest({
		method: METHODS.activeChats,
		params: { CRM_ENTITY_TYPE: draft.CRM_ENTITY_TYPE, CRM_ENTITY: draft.CRM_ENTITY },
	});
	// A failed lookup posted nothing, whatever the answer was.
	if (outcome instanceof Bitrix24Failure) return outcome.beforeSending();
	const chatId = (Array.isArray(outcome.result) ? outcome.result : [])
		.map((chat: unknown) => (isObject(chat) ? positiveIdOf(chat.CHAT_ID) : undefined))
		.find((id) => id !== undefined);
	return (
		chatId ??
		new Bitrix24Failure(
			'NO_ACTIVE_CHAT',
			'No chat of this CRM entity has a dialog in progress.',
			null,
		)
	);
}

/** Sends the message; on CANCELED (the sender is not in the chat) adds the sender and sends once more. */
async function deliver(
	rest: RestSender,
	request: MessageRequest,
	options: SendOptions,
): Promise<number | Bitrix24Failure> {
	const lane = `chat:${request.CHAT_ID}`;
	const send = async () =>
		messageIdOf(await rest({ method: METHODS.sendMessage, params: { ...request }, lane }));
	const outcome = await send();
	if (
		!(outcome instanceof Bitrix24Failure) ||
		outcome.code !== 'CANCELED' ||
		!options.addSenderToChat
	) {
		return outcome;
	}
	// CANCELED means nothing was posted, so sending again cannot duplicate the message.
	const added = await rest({
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
	const { body, source } = messageInputOf(context, (requestData.options.body ?? {}) as IDataObject);
	const toActiveChat = context.getNodeParameter('chatSource', 'specificChat') === 'activeChat';
	let draft: MessageDraft & { CHAT_ID?: number };
	try {
		draft = toActiveChat
			? validateMessageDraft(body, source)
			: validateMessageRequest(body, source);
	} catch (failure) {
		return { failure: failure as Bitrix24Failure, target: targetOf(body) };
	}
	const options = optionsOf(context);
	const rest = restSenderFor(context, requestData, run, options.batchSize);
	const sendToChat = async (): Promise<ItemOutcome> => {
		// In batch mode this is the item's first call, made in the tick the run's calls gather in.
		const chatId = draft.CHAT_ID ?? (await activeChatOf(rest, draft));
		if (chatId instanceof Bitrix24Failure) return { failure: chatId, target: targetOf(body) };
		const request: MessageRequest = { ...draft, CHAT_ID: chatId };
		const outcome = await deliver(rest, request, options);
		return outcome instanceof Bitrix24Failure
			? { failure: outcome, target: { ...targetOf(body), chatId } }
			: { messageId: outcome, request };
	};
	if (options.batchSize > 1) return await sendToChat();
	// One request per message: each waits for the one before it to the same chat (or CRM entity, whose
	// chat is found at run time); batches keep that order themselves.
	const lane =
		draft.CHAT_ID !== undefined
			? `chat:${draft.CHAT_ID}`
			: `entity:${draft.CRM_ENTITY_TYPE}:${draft.CRM_ENTITY}`;
	return await run.lanes.inOrder([lane], sendToChat);
}

/** The sent message, paired to its input item. */
function sentMessageItem(
	context: IExecutePaginationFunctions,
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
 * The node's per-item executor. The operation's routing sets `send.paginate` and names this function as
 * `operations.pagination`: n8n-core's RoutingNode.makeRequest then calls it once per item, with the
 * request it built from the parameters and `this.makeRoutingRequest` (credentials, OAuth refresh and
 * postReceive included), and takes the items it returns as that item's output. RoutingNode.runNode starts
 * every item this way in one synchronous loop before awaiting any (Promise.allSettled), which the
 * batching relies on: an item's first REST call is made before its first await, so the run's calls
 * gather in one tick (n8n's Request Options > Batching, when on, only starts the items in groups).
 *
 * Invalid input fails the item before anything is sent; otherwise the message goes out once, alone or
 * in a batch, to the chat given or to the CRM entity's active chat. When n8n runs the node again in the
 * same execution (Settings > Retry On Fail), an item whose message was or may have been posted comes back
 * as it did the first time; only items refused or never sent are tried again.
 */
export async function executeSendMessage(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	const run = runStateOf<ItemOutcome>(this);
	const itemIndex = this.getItemIndex();
	const previous = run.outcomes.get(itemIndex);
	const mayHavePosted =
		previous !== undefined && !('failure' in previous && previous.failure.delivery === 'not_sent');
	const outcome = mayHavePosted ? previous : await sendItem(this, requestData, run);
	run.outcomes.set(itemIndex, outcome);
	if (!('failure' in outcome)) return [sentMessageItem(this, outcome.request, outcome.messageId)];
	if (!this.continueOnFail()) throw stopWorkflowError(this, outcome.failure, outcome.target);
	return [failureItem(this, outcome.failure, outcome.target)];
}
