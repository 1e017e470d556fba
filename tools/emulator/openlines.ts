/**
 * imopenlines.crm.* handlers, check for check as imopenlines/lib/rest.php makes them (crmChatMessageAdd,
 * getCrmChats, crmLastChatIdGet, crmChatUserAdd, crmChatUserDelete), with the chat lookups of
 * imopenlines/lib/crm/common.php (world.ts).
 */
import { requireId, requireNotEmpty, textOf } from './args';
import { MESSAGE_MAX_LENGTH, TRUNCATION_SUFFIX } from './constants';
import type { CallContext, MethodOutcome, RecordedMessage } from './context';
import { Errors } from './envelope';
import { phpInt, phpIsNumeric, phpTruthy, scalarString, type ParamRecord } from './params';
import {
	chatsByCrmEntity,
	findBot,
	findUser,
	hasAccessToEntity,
	isChatOfCrmEntity,
	lastChatIdOf,
	type OpenLineChat,
	type World,
} from './world';

/** Bitrix24 counts characters (code points), cuts at 20,000 and marks the cut. */
export function truncateMessage(text: string): string {
	const chars = Array.from(text);
	return chars.length > MESSAGE_MAX_LENGTH
		? chars.slice(0, MESSAGE_MAX_LENGTH).join('') + TRUNCATION_SUFFIX
		: text;
}

/**
 * Chat::sendMessageFromUser -> CIMMessenger::Add: the new message's ID, or undefined after leaving the reason as
 * the request's application exception (which processException then reports in place of MESSAGE_ADD_ERROR): CANCELED
 * for a sender who may not write to the chat, the chat's messenger errors (one as itself, several as ERROR_CORE,
 * CAdminException joining their texts with "<br>").
 */
function sendMessageFromUser(
	ctx: CallContext,
	chat: OpenLineChat,
	userId: number,
	text: string,
): number | undefined {
	const errors = chat.messengerErrors ?? [];
	if (!chat.members.includes(userId)) {
		ctx.request.thrown = {
			code: 'CANCELED',
			message: 'You cannot send messages to the specified chat',
		};
	} else if (errors.length > 0) {
		ctx.request.thrown =
			errors.length === 1 && errors[0] !== undefined
				? errors[0]
				: { code: '', message: errors.map((e) => `${e.message}<br>`).join('') };
	} else {
		const recorded: RecordedMessage = {
			id: ctx.world.nextMessageId++,
			chatId: chat.id,
			userId,
			crmEntityType: chat.entityType,
			crmEntityId: chat.entityId,
			message: truncateMessage(text),
			authKind: ctx.authKind,
			at: ctx.now(),
			viaBatch: ctx.viaBatch,
		};
		ctx.messages.push(recorded);
		// The chat's bots hear it too (an operator's answer, say).
		ctx.bots.messagePosted(chat, userId, recorded.id, recorded.message);
		return recorded.id;
	}
	return undefined;
}

const findChat = (world: World, chatId: number): OpenLineChat | undefined =>
	world.chats.find((c) => c.id === chatId);

/**
 * crmChatMessageAdd: each argument's emptiness and then its type, in the order of the arguments; CRM_ENTITY_TYPE
 * only for emptiness and MESSAGE only by PHP's empty() ("0" is empty, "   " is not). Then the caller's and the
 * sender's read access, the chat among the entity's chats in progress, and the messenger.
 */
function messageAdd(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const type = textOf(requireNotEmpty(params, 'CRM_ENTITY_TYPE'));
	const entityId = requireId(params, 'CRM_ENTITY');
	const userId = requireId(params, 'USER_ID');
	const chatId = requireId(params, 'CHAT_ID');
	const message = requireNotEmpty(params, 'MESSAGE');
	const { world } = ctx;

	if (!hasAccessToEntity(world, type, entityId, ctx.callerId))
		throw Errors.accessDenied('You dont have access to this action');
	if (!hasAccessToEntity(world, type, entityId, userId))
		throw Errors.accessDenied('User dont have access to this entity');
	const chat = findChat(world, chatId);
	if (!chat || !isChatOfCrmEntity(world, type, entityId, chatId)) throw Errors.chatNotInCrm();
	// The method takes a string: a list cannot be sent (PHP would stop with a type error).
	const text = scalarString(message);
	if (text === undefined) throw Errors.argumentType('MESSAGE');

	const messageId = sendMessageFromUser(ctx, chat, userId, text);
	if (messageId === undefined) throw Errors.messageNotAdded();
	return { result: messageId };
}

/** getCrmChats: newest activity first; ACTIVE_ONLY is "Y" unless it is exactly the string "N". */
function chatGet(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const type = textOf(requireNotEmpty(params, 'CRM_ENTITY_TYPE'));
	const entityId = requireId(params, 'CRM_ENTITY');
	if (!hasAccessToEntity(ctx.world, type, entityId, ctx.callerId))
		throw Errors.accessDenied('You dont have access to this action');
	const chats = chatsByCrmEntity(ctx.world, type, entityId, params.ACTIVE_ONLY !== 'N');
	return {
		result: chats.map((c) => ({
			CHAT_ID: String(c.id),
			CONNECTOR_ID: c.connectorId,
			CONNECTOR_TITLE: c.connectorTitle,
		})),
	};
}

/** crmLastChatIdGet: the chat of the latest activity whatever its dialog; no access check at all. */
function chatGetLastId(params: ParamRecord, ctx: CallContext): MethodOutcome {
	if (!phpTruthy(params.CRM_ENTITY_TYPE) || !phpTruthy(params.CRM_ENTITY))
		throw Errors.crmChatEmpty('Empty CRM data');
	const entityId = phpInt(params.CRM_ENTITY);
	if (!phpIsNumeric(params.CRM_ENTITY) || entityId <= 0) throw Errors.argumentType('CRM_ENTITY');
	const chatId = lastChatIdOf(ctx.world, textOf(params.CRM_ENTITY_TYPE), entityId);
	if (chatId === 0) throw Errors.crmChatEmpty('Could not find CRM entity');
	return { result: chatId };
}

/** Im\User::getInstance(id)->isExists() && isActive(): bots are messenger users too. */
const isActiveUser = (world: World, id: number): boolean =>
	findUser(world, id)?.active === true || findBot(world, id) !== undefined;

/** The chat the call names (CHAT_ID's (int) cast, which may be 0 or negative), or the entity's last chat. */
const targetChatId = (params: ParamRecord, world: World, type: string, entityId: number): number =>
	phpTruthy(params.CHAT_ID) ? phpInt(params.CHAT_ID) : lastChatIdOf(world, type, entityId);

/**
 * crmChatUserAdd: the entity arguments, the messenger module, the caller's access; then, for a chat ID above 0
 * (else that ID is the result, 0 included): the chat in progress of this entity, the caller's right to add users
 * to the line, USER_ID (its (int) cast; "Empty USER_ID" below 1), an active user, the user's read access and
 * history right. A member already in the chat is no error: the chat ID comes back.
 */
function chatUserAdd(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const { world } = ctx;
	const type = textOf(requireNotEmpty(params, 'CRM_ENTITY_TYPE'));
	const entityId = requireId(params, 'CRM_ENTITY');
	if (!world.portal.imInstalled) throw Errors.imNotInstalled();
	if (!hasAccessToEntity(world, type, entityId, ctx.callerId))
		throw Errors.accessDenied("You don't have access to join user to chat");
	const chatId = targetChatId(params, world, type, entityId);
	if (chatId <= 0) return { result: chatId };

	const chat = findChat(world, chatId);
	if (!chat || !isChatOfCrmEntity(world, type, entityId, chatId)) throw Errors.chatNotInCrm();
	if (world.lineRights.cannotJoin.includes(ctx.callerId))
		throw Errors.accessDenied("You don't have access to join user to chat");
	const userId = phpInt(params.USER_ID);
	if (userId <= 0) throw Errors.argumentEmpty('Empty USER_ID');
	if (!isActiveUser(world, userId)) throw Errors.userNotActive();
	if (!hasAccessToEntity(world, type, entityId, userId))
		throw Errors.accessDenied(
			'This user does not have access to the chat because he does not have access to this CRM entity',
		);
	if (world.lineRights.cannotViewHistory.includes(userId))
		throw Errors.accessDenied(
			'This user does not have access to the chat because he does not have access to this view chat history',
		);
	if (chat.refusesNewMembers === true)
		throw Errors.wrongRequest("You don't have access or user already member in chat");
	if (!chat.members.includes(userId)) chat.members.push(userId);
	return { result: chatId };
}

/** crmChatUserDelete: its own order and codes; removing a user who is not in the chat is WRONG_REQUEST. */
function chatUserDelete(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const { world } = ctx;
	const userId = phpInt(params.USER_ID);
	if (userId <= 0) throw Errors.crmChatEmptyUser();
	if (!phpTruthy(params.CRM_ENTITY_TYPE) || !phpTruthy(params.CRM_ENTITY))
		throw Errors.crmChatEmpty('Empty CRM data');
	const entityId = phpInt(params.CRM_ENTITY);
	if (!phpIsNumeric(params.CRM_ENTITY) || entityId <= 0) throw Errors.argumentType('CRM_ENTITY');
	const type = textOf(params.CRM_ENTITY_TYPE);
	if (!world.portal.imInstalled) throw Errors.imNotInstalled();
	if (!hasAccessToEntity(world, type, entityId, ctx.callerId))
		throw Errors.accessDenied("You don't have access to join user to chat");
	const chatId = targetChatId(params, world, type, entityId);
	if (chatId <= 0) return { result: chatId };

	const chat = findChat(world, chatId);
	if (!chat || !isChatOfCrmEntity(world, type, entityId, chatId)) throw Errors.chatNotInCrm();
	if (world.lineRights.cannotJoin.includes(ctx.callerId)) throw Errors.deleteUserDenied();
	if (!isActiveUser(world, userId)) throw Errors.userNotActive();
	if (!chat.members.includes(userId))
		throw Errors.wrongRequest("You don't have access or user already not in chat");
	chat.members = chat.members.filter((m) => m !== userId);
	return { result: chatId };
}

export const OPENLINES_METHODS = {
	'imopenlines.crm.message.add': messageAdd,
	'imopenlines.crm.chat.get': chatGet,
	'imopenlines.crm.chat.getlastid': chatGetLastId,
	'imopenlines.crm.chat.user.add': chatUserAdd,
	'imopenlines.crm.chat.user.delete': chatUserDelete,
} as const;
