/** imopenlines.crm.* handlers: sending into CRM-linked open-channel chats and finding those chats. */
import {
	optionalPositiveId,
	requireEntityType,
	requirePositiveId,
	requirePresent,
	requireText,
} from './args.cjs';
import { MESSAGE_MAX_LENGTH, TRUNCATION_SUFFIX } from './constants.cjs';
import type { CallContext, MethodOutcome, RecordedMessage } from './context.cjs';
import { Errors } from './envelope.cjs';
import { scalarString, type ParamRecord } from './params.cjs';
import { canRead, chatsOfEntity, type CrmEntityType, type OpenLineChat } from './world.cjs';

/** Bitrix24 counts characters (code points), cuts at 20,000 and marks the cut. */
export function truncateMessage(text: string): string {
	const chars = Array.from(text);
	return chars.length > MESSAGE_MAX_LENGTH
		? chars.slice(0, MESSAGE_MAX_LENGTH).join('') + TRUNCATION_SUFFIX
		: text;
}

interface EntityRef {
	type: CrmEntityType;
	id: number;
}

/** CRM_ENTITY_TYPE + CRM_ENTITY present and valid, and the caller may read the entity. */
function readableEntity(
	params: ParamRecord,
	ctx: CallContext,
	alsoRequired: readonly string[] = [],
): EntityRef {
	requirePresent(params, ['CRM_ENTITY_TYPE', 'CRM_ENTITY', ...alsoRequired]);
	const ref = { type: requireEntityType(params), id: requirePositiveId(params, 'CRM_ENTITY') };
	if (!canRead(ctx.world, ctx.callerId, ref.type, ref.id)) throw Errors.accessDenied();
	return ref;
}

const belongsTo = (chat: OpenLineChat, ref: EntityRef): boolean =>
	chat.entityType === ref.type && chat.entityId === ref.id;

/** Validation order follows the server code: all emptiness checks, then types, then access, chat, membership. */
function messageAdd(params: ParamRecord, ctx: CallContext): MethodOutcome {
	requirePresent(params, ['CRM_ENTITY_TYPE', 'CRM_ENTITY', 'USER_ID', 'CHAT_ID', 'MESSAGE']);
	const type = requireEntityType(params);
	const entityId = requirePositiveId(params, 'CRM_ENTITY');
	const userId = requirePositiveId(params, 'USER_ID');
	const chatId = requirePositiveId(params, 'CHAT_ID');
	const text = requireText(params, 'MESSAGE');
	const { world } = ctx;

	if (!canRead(world, ctx.callerId, type, entityId)) throw Errors.accessDenied();
	if (!canRead(world, userId, type, entityId)) throw Errors.accessDenied();
	const chat = world.chats.find((c) => c.id === chatId);
	if (!chat || !belongsTo(chat, { type, id: entityId }) || chat.status !== 'inProgress')
		throw Errors.chatNotInCrm();
	if (!chat.members.includes(userId)) throw Errors.canceled();

	const recorded: RecordedMessage = {
		id: world.nextMessageId++,
		chatId,
		userId,
		crmEntityType: type,
		crmEntityId: entityId,
		message: truncateMessage(text),
		authKind: ctx.authKind,
		at: ctx.now(),
		viaBatch: ctx.viaBatch,
	};
	ctx.messages.push(recorded);
	return { result: recorded.id };
}

/** Chats oldest first (most recent last); ACTIVE_ONLY defaults to "Y" and only the string "N" turns it off. */
function chatGet(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const ref = readableEntity(params, ctx);
	const activeOnly = scalarString(params.ACTIVE_ONLY) !== 'N';
	const chats = chatsOfEntity(ctx.world, ref.type, ref.id).filter(
		(c) => !activeOnly || c.status === 'inProgress',
	);
	return {
		result: chats.map((c) => ({
			CHAT_ID: String(c.id),
			CONNECTOR_ID: c.connectorId,
			CONNECTOR_TITLE: c.connectorTitle,
		})),
	};
}

/** The newest chat whatever its dialog status (it may be closed). */
function chatGetLastId(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const ref = readableEntity(params, ctx);
	const last = chatsOfEntity(ctx.world, ref.type, ref.id).at(-1);
	if (!last) throw Errors.crmChatEmpty();
	return { result: last.id };
}

/** CHAT_ID given: that chat (must belong to the entity); otherwise the entity's newest chat. */
function targetChat(
	params: ParamRecord,
	ctx: CallContext,
	ref: EntityRef,
): OpenLineChat | undefined {
	const chatId = optionalPositiveId(params, 'CHAT_ID');
	if (chatId === undefined) return chatsOfEntity(ctx.world, ref.type, ref.id).at(-1);
	const chat = ctx.world.chats.find((c) => c.id === chatId);
	if (!chat || !belongsTo(chat, ref)) throw Errors.chatNotInCrm();
	return chat;
}

function membershipChange(apply: (chat: OpenLineChat, userId: number) => void) {
	return (params: ParamRecord, ctx: CallContext): MethodOutcome => {
		const ref = readableEntity(params, ctx, ['USER_ID']);
		const userId = requirePositiveId(params, 'USER_ID');
		if (!canRead(ctx.world, userId, ref.type, ref.id)) throw Errors.accessDenied();
		const chat = targetChat(params, ctx, ref);
		if (!chat) return { result: 0 };
		apply(chat, userId);
		return { result: chat.id };
	};
}

export const OPENLINES_METHODS = {
	'imopenlines.crm.message.add': messageAdd,
	'imopenlines.crm.chat.get': chatGet,
	'imopenlines.crm.chat.getlastid': chatGetLastId,
	'imopenlines.crm.chat.user.add': membershipChange((chat, userId) => {
		if (!chat.members.includes(userId)) chat.members.push(userId);
	}),
	'imopenlines.crm.chat.user.delete': membershipChange((chat, userId) => {
		chat.members = chat.members.filter((m) => m !== userId);
	}),
} as const;
