/**
 * A bot's side of open channel dialogs: imbot.v2.Chat.Message.send, the imopenlines.bot.session.* hand-over
 * methods and imopenlines.session.history.get, checked in the order of the server code
 * (imbot/lib/V2/Controller/BotController.php, Chat/Message.php; imopenlines/lib/rest.php botSession*,
 * sessionGetHistory; imopenlines/lib/chat.php endBotSession, transfer; operator.php getSessionHistory) and worded
 * as ../shared/docs/bitrix24-bots.md §2.1 and §5 give the codes.
 *
 * They act on the one bot world of bots.ts / botWorld.ts: the registry `world.imbot.registered` (a bot the trigger
 * registered answers here as the seeded SupportBot does), the chats of `world.chats` (members, session status) and
 * their dialogs `world.imbot.dialogs` (sessions, holder, messages). A bot's message goes through the same posting
 * path as a customer's (other bots of the chat hear it); hand-overs are recorded in `world.imbot.sessionEvents`.
 */
import type { LineDialog } from './botWorld';
import {
	applicationOf,
	botError as fail,
	botOwnedBy,
	chatEntityFields,
	dialogOf,
	lineChatOf,
	requireOwnedBot,
	sessionOpen,
} from './bots';
import { attachOf } from './attach';
import { MESSAGE_MAX_LENGTH, TRUNCATION_SUFFIX } from './constants';
import type { CallContext, MethodOutcome } from './context';
import { bitrixDate, RestError } from './envelope';
import {
	entriesOf,
	isRecord,
	phpInt,
	phpTruthy,
	scalarString,
	type ParamRecord,
	type ParamValue,
} from './params';
import { findBot, findUser, type OpenLineChat, type World } from './world';

const isBot = (world: World, id: number | undefined): boolean =>
	id !== undefined && findBot(world, id) !== undefined;

/** Dialog::getChatId: `chat<ID>` names a group chat; a bare number would be a private dialog (none here). */
function chatOfParam(world: World, value: ParamValue | undefined): OpenLineChat | undefined {
	const match = /^chat(\d+)$/.exec(scalarString(value) ?? '');
	return match ? world.chats.find((c) => c.id === Number(match[1])) : undefined;
}

/** Keyboard::getKeyboardByJson: buttons need TEXT and an action (LINK, COMMAND, ACTION+ACTION_VALUE, APP_ID). */
function keyboardOf(value: ParamValue): ParamValue[] | undefined {
	const raw = typeof value === 'string' ? (JSON.parse(value) as ParamValue) : value;
	const buttons = isRecord(raw) && raw.BUTTONS !== undefined ? raw.BUTTONS : raw;
	const list = entriesOf(buttons ?? null).map(([, button]) => button);
	const valid = list.filter(
		(b) =>
			isRecord(b) &&
			(b.TYPE === 'NEWLINE' ||
				(phpTruthy(b.TEXT) &&
					(phpTruthy(b.LINK) ||
						phpTruthy(b.COMMAND) ||
						(phpTruthy(b.ACTION) && phpTruthy(b.ACTION_VALUE)) ||
						phpTruthy(b.APP_ID)))),
	);
	return valid.some((b) => isRecord(b) && b.TYPE !== 'NEWLINE') ? valid : undefined;
}

/** Bitrix24 counts characters (code points), cuts at 20,000 and marks the cut. */
const truncated = (text: string): string =>
	Array.from(text).length > MESSAGE_MAX_LENGTH
		? Array.from(text).slice(0, MESSAGE_MAX_LENGTH).join('') + TRUNCATION_SUFFIX
		: text;

/**
 * imbot.v2.Chat.Message.send (Chat/Message.php::sendAction): the bot and its owner, the chat and the bot's right to
 * post there (CheckActionAccess: ACCESS_DENIED for a chat it is not in), then FieldsValidationService (the text
 * trimmed, EMPTY_MESSAGE without text or attachment, an attachment attach.ts refuses is ATTACH_ERROR or
 * ATTACH_OVERSIZE, a keyboard Bitrix24 cannot read is KEYBOARD_ERROR).
 */
function chatMessageSend(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const bot = requireOwnedBot(params, ctx);
	const chat = chatOfParam(ctx.world, params.dialogId ?? params.DIALOG_ID);
	if (!chat || !chat.members.includes(bot.id))
		throw fail('ACCESS_DENIED', 'You do not have access to this chat');
	const fields = isRecord(params.fields) ? params.fields : {};
	const text = fields.message === undefined ? undefined : scalarString(fields.message);
	if (fields.message !== undefined && text === undefined)
		throw fail('EMPTY_MESSAGE', 'Wrong message type');
	if ((text ?? '').trim() === '' && !phpTruthy(fields.attach))
		throw fail('EMPTY_MESSAGE', "Message can't be empty");
	const attach = phpTruthy(fields.attach) ? attachOf(fields.attach) : undefined;
	let keyboard: ParamValue[] | undefined;
	if (phpTruthy(fields.keyboard)) {
		try {
			keyboard = keyboardOf(fields.keyboard);
		} catch {
			keyboard = undefined;
		}
		if (keyboard === undefined) throw fail('KEYBOARD_ERROR', 'Incorrect keyboard params');
	}
	const id = ctx.world.nextMessageId++;
	ctx.bots.messagePosted(chat, bot.id, id, truncated((text ?? '').trim()), {
		...(keyboard ? { keyboard } : {}),
		...(attach ? { attach } : {}),
	});
	bot.countMessage += 1;
	return { result: { id, uuidMap: {} } };
}

/** imopenlines/lib/rest.php: CHAT_ID's (int) cast must be above 0. */
function chatIdOf(params: ParamRecord): number {
	const chatId = phpInt(params.CHAT_ID ?? params.chat_id ?? null);
	if (chatId <= 0) throw fail('CHAT_ID_EMPTY', "Chat ID can't be empty");
	return chatId;
}

/** resolveClientId: OAuth's client_id, else CLIENT_ID (a bot token); without one an AccessException (403). */
function callerApplication(params: ParamRecord, ctx: CallContext): string {
	const clientId = scalarString(params.CLIENT_ID ?? params.client_id ?? null) ?? '';
	if (ctx.authKind !== 'oauth' && clientId === '')
		throw new RestError(403, 'ACCESS_DENIED', 'Access denied! Client ID not specified.');
	return applicationOf(ctx, clientId);
}

/** The caller's bot (BOT_ID_ERROR when its application registered none). */
function callerBot(params: ParamRecord, ctx: CallContext) {
	const bot = botOwnedBy(ctx.world, callerApplication(params, ctx));
	if (!bot) throw fail('BOT_ID_ERROR', 'Bot not found');
	return bot;
}

/** A line's own message in the dialog's current session. */
const system = (dialog: LineDialog, text: string, at: number, world: World): void => {
	dialog.messages.push({
		id: world.nextMessageId++,
		sessionId: dialog.sessionId,
		authorId: 0,
		text,
		at,
		system: true,
	});
};

/**
 * botSessionOperator -> Chat::endBotSession: the current session must be held by a bot (else WRONG_CHAT "Operator
 * is not a bot"); the bot leaves the chat (unless the line keeps it until the close) and the dialog goes to the
 * line's queue. No bot identity is asked for.
 */
function sessionOperator(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const chatId = chatIdOf(params);
	const found = lineChatOf(ctx.world, chatId);
	if (!found || !sessionOpen(found.chat) || !isBot(ctx.world, found.dialog.holder))
		throw fail('WRONG_CHAT', 'Operator is not a bot');
	const { chat, dialog } = found;
	const botId = dialog.holder ?? 0;
	const line = ctx.world.imbot.lines.find((l) => l.id === dialog.lineId);
	if (line?.welcomeBotLeft !== 'close') chat.members = chat.members.filter((m) => m !== botId);
	dialog.holder = 0;
	system(dialog, 'The chat bot has passed the dialog to an operator', ctx.now(), ctx.world);
	ctx.world.imbot.sessionEvents.push({ kind: 'operator', chatId, botId, at: ctx.now() });
	return { result: true };
}

/** TRANSFER_ID is read first and overwrites USER_ID / QUEUE_ID (botSessionTransfer; keys as sent, not upper-cased). */
function transferTarget(params: ParamRecord): string {
	const target: ParamRecord = { ...params };
	const transferId = scalarString(params.TRANSFER_ID);
	if (params.TRANSFER_ID !== undefined) {
		if ((transferId ?? '').startsWith('queue')) target.QUEUE_ID = (transferId ?? '').slice(5);
		else target.USER_ID = params.TRANSFER_ID;
	}
	if (target.USER_ID !== undefined) {
		const userId = phpInt(target.USER_ID);
		if (userId <= 0) throw fail('USER_ID_EMPTY', "User ID can't be empty");
		return String(userId);
	}
	if (target.QUEUE_ID !== undefined) {
		const queueId = phpInt(target.QUEUE_ID);
		if (queueId <= 0) throw fail('QUEUE_ID_EMPTY', "QUEUE ID can't be empty");
		return `queue${queueId}`;
	}
	throw fail('TRANSFER_ID_EMPTY', "Queue ID or User ID can't be empty");
}

/**
 * botSessionTransfer -> Chat::transfer: CHAT_ID, the target, the caller's bot; then the chat's open session and
 * the target: an active employee (not a bot, extranet or customer) or an existing line. Anything else is
 * OPERATOR_WRONG. LEAVE=Y takes the bot out of the chat at once.
 */
function sessionTransfer(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const chatId = chatIdOf(params);
	const to = transferTarget(params);
	const bot = callerBot(params, ctx);
	const found = lineChatOf(ctx.world, chatId);
	const targetOk = to.startsWith('queue')
		? ctx.world.imbot.lines.some((line) => line.id === Number(to.slice(5)))
		: findUser(ctx.world, Number(to))?.active === true;
	if (!found || !sessionOpen(found.chat) || !targetOk)
		throw fail('OPERATOR_WRONG', 'You can not redirect to this operator');
	const { chat, dialog } = found;
	const leave = params.LEAVE === 'Y';
	if (to.startsWith('queue')) {
		dialog.lineId = Number(to.slice(5));
		dialog.holder = 0;
	} else {
		dialog.holder = Number(to);
		if (!chat.members.includes(dialog.holder)) chat.members.push(dialog.holder);
	}
	if (leave) chat.members = chat.members.filter((m) => m !== bot.id);
	system(dialog, `The dialog was transferred (${to})`, ctx.now(), ctx.world);
	ctx.world.imbot.sessionEvents.push({
		kind: 'transfer',
		chatId,
		to,
		leave,
		botId: bot.id,
		at: ctx.now(),
	});
	return { result: true };
}

/**
 * botSessionFinish: CHAT_ID, the caller's bot (BOT_ID_ERROR when its application registered none); then the bot
 * answers and the session is finished. A chat without an open session is no error.
 */
function sessionFinish(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const chatId = chatIdOf(params);
	const bot = callerBot(params, ctx);
	const found = lineChatOf(ctx.world, chatId);
	if (found && sessionOpen(found.chat)) {
		found.chat.status = 'finished';
		found.dialog.holder = bot.id;
		system(found.dialog, 'The dialog is finished', ctx.now(), ctx.world);
		ctx.world.imbot.sessionEvents.push({ kind: 'finish', chatId, botId: bot.id, at: ctx.now() });
	}
	return { result: true };
}

/** A user of the history's `users`: the customer is a connector (imconnector), bots are bots. */
function historyUser(world: World, dialog: LineDialog, id: number): Record<string, unknown> {
	const bot = findBot(world, id);
	const employee = findUser(world, id);
	const customer = id === dialog.customerId;
	const name = customer
		? dialog.customerName
		: (bot?.properties.name ?? [employee?.name, employee?.lastName].filter(Boolean).join(' '));
	return {
		id: String(id),
		name,
		firstName: name,
		lastName: '',
		extranet: customer,
		connector: customer,
		bot: bot !== undefined,
		externalAuthId: customer ? 'imconnector' : bot ? 'bot' : 'default',
		type: customer ? 'extranet' : bot ? 'bot' : 'employee',
	};
}

/** The session start the history's entityData1 shows (the seeded value; no test reads it). */
const HISTORY_CHAT_AT = Date.UTC(2025, 0, 15, 8, 0, 0);

/**
 * sessionGetHistory: SESSION_ID, else the chat's latest session (MISSING_REQUIRED_PARAM without either,
 * INVALID_SESSION_ID when none is found); Operator::getSessionHistory answers ACCESS_DENIED for a session it
 * cannot find. Messages come keyed by ID, with the users who wrote them.
 */
function sessionHistory(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const { world } = ctx;
	const dialogs = world.imbot.dialogs;
	let sessionId: number | undefined;
	if (!phpTruthy(params.SESSION_ID)) {
		if (!phpTruthy(params.CHAT_ID))
			throw fail('MISSING_REQUIRED_PARAM', 'Session ID or Chat ID must be provided');
		sessionId = dialogOf(world, phpInt(params.CHAT_ID))?.sessionIds.at(-1);
	} else {
		sessionId = phpInt(params.SESSION_ID);
	}
	if (!sessionId)
		throw fail('INVALID_SESSION_ID', 'Unable to determine session ID from provided parameters');
	const dialog = dialogs.find((d) => d.sessionIds.includes(sessionId));
	const chat = world.chats.find((c) => c.id === dialog?.chatId);
	if (!dialog || !chat) throw fail('ACCESS_DENIED', 'Access denied');
	const messages = dialog.messages.filter((m) => m.sessionId === sessionId);
	const message: Record<string, unknown> = {};
	for (const m of [...messages].reverse()) {
		message[String(m.id)] = {
			id: String(m.id),
			chatid: String(dialog.chatId),
			senderid: String(m.authorId),
			recipientid: `chat${dialog.chatId}`,
			date: bitrixDate(m.at),
			text: m.text,
			textlegacy: m.text,
			params: {
				...(m.keyboard ? { keyboard: m.keyboard } : {}),
				...(m.attach ? { attach: m.attach } : {}),
			},
		};
	}
	const users: Record<string, unknown> = {};
	for (const id of new Set(messages.map((m) => m.authorId).filter((id) => id > 0)))
		users[String(id)] = historyUser(world, dialog, id);
	return {
		result: {
			chatId: dialog.chatId,
			canJoin: 'Y',
			canVoteHead: 'Y',
			sessionId,
			sessionVoteHead: 0,
			sessionCommentHead: null,
			userId: `chat${dialog.chatId}`,
			message: messages.length === 0 ? [] : message,
			usersMessage: { [`chat${dialog.chatId}`]: [...messages].reverse().map((m) => String(m.id)) },
			users: Object.keys(users).length === 0 ? [] : users,
			openlines: { canvoteashead: { [String(dialog.lineId)]: true } },
			userInGroup: [],
			woUserInGroup: [],
			chat: {
				[String(dialog.chatId)]: {
					id: String(dialog.chatId),
					name: `${dialog.customerName} - line ${dialog.lineId}`,
					entityType: 'LINES',
					...chatEntityFields(chat, { ...dialog, sessionId }, HISTORY_CHAT_AT),
					entityData3: 'N',
					type: 'lines',
					messageType: 'L',
				},
			},
			userBlockChat: {},
			userInChat: { [String(dialog.chatId)]: chat.members },
			files: [],
		},
	};
}

export const BOT_SESSION_METHODS = {
	'imbot.v2.chat.message.send': chatMessageSend,
	'imopenlines.bot.session.operator': sessionOperator,
	'imopenlines.bot.session.transfer': sessionTransfer,
	'imopenlines.bot.session.finish': sessionFinish,
	'imopenlines.session.history.get': sessionHistory,
} as const;
