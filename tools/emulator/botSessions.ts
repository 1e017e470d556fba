/**
 * A bot's side of open channel dialogs: imbot.v2.Chat.Message.send, the imopenlines.bot.session.* hand-over
 * methods and imopenlines.session.history.get (the lines themselves are listed by bots.ts), checked in the order of the
 * server code (imbot/lib/V2/Controller/BotController.php, Chat/Message.php; imopenlines/lib/rest.php botSession*,
 * sessionGetHistory; imopenlines/lib/chat.php endBotSession, transfer; operator.php getSessionHistory) and worded
 * as ../shared/docs/bitrix24-bots.md §2.1 and §5 give the codes.
 *
 * The state lives beside the world (one per World object, so `reset()` gives a fresh one) and is reached through
 * `botSessionsOf(world)`; the bot registry is read only through `botById` / `botOwnedBy`, so it can be merged
 * with another registry of bots in one place.
 */
import { attachOf } from './attach';
import { BOTS, MESSAGE_MAX_LENGTH, OPEN_LINES, TRUNCATION_SUFFIX, USERS } from './constants';
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
import { findUser, type World } from './world';

/** A chat bot of the imbot.v2 API and who owns it (BotController::resolveBotId compares APP_ID). */
export interface RegisteredBot {
	id: number;
	code: string;
	name: string;
	/** Registered through an inbound webhook with this botToken (APP_ID "custom<token>"). */
	botToken?: string;
	/** Registered by this OAuth application (APP_ID = its client_id). */
	clientId?: string;
}

/** An open channel (line): `ID` of imopenlines.config.list.get, QUEUE_ID of bot.session.transfer. */
export interface OpenChannel {
	id: number;
	name: string;
	active: boolean;
	/** Operator user IDs of its queue. */
	queue: number[];
}

export interface DialogMessage {
	id: number;
	sessionId: number;
	/** 0 for the line's system messages. */
	authorId: number;
	text: string;
	/** Emulator clock (ms). */
	at: number;
	system: boolean;
	/** The keyboard as Bitrix24 stores it (BUTTONS), when the message had one. */
	keyboard?: ParamValue[];
	/** The attachment as Bitrix24 stores it (full form, attach.ts), when the message had one. */
	attach?: ParamRecord;
}

/** An open channel chat with a customer, and its sessions (one current). */
export interface BotDialog {
	chatId: number;
	lineId: number;
	connectorId: string;
	customer: { id: number; name: string };
	/** The latest session; closed once finished. */
	sessionId: number;
	/** Every session of the chat, oldest first. */
	sessionIds: number[];
	sessionOpen: boolean;
	/** Who answers the current session: a bot, an operator, or 0 while it waits in the line's queue. */
	holder: number;
	members: number[];
	/** The line's welcome-bot setting: `queue` removes the bot at hand-over, `close` keeps it until the end. */
	botLeaves: 'queue' | 'close';
	crm?: { type: 'LEAD' | 'DEAL' | 'CONTACT' | 'COMPANY'; id: number };
	messages: DialogMessage[];
}

/** What happened to a dialog through the hand-over methods, in order, for tests and the demo. */
export type DialogEvent =
	| { kind: 'operator'; chatId: number; at: number }
	| { kind: 'transfer'; chatId: number; to: string; leave: boolean; botId: number; at: number }
	| { kind: 'finish'; chatId: number; botId: number; at: number };

export interface BotSessions {
	bots: RegisteredBot[];
	lines: OpenChannel[];
	dialogs: BotDialog[];
	events: DialogEvent[];
	nextSessionId: number;
}

/** The seeded bot's webhook token: long enough for secret scrubbing, at most 40 characters. */
export const SUPPORT_BOT_TOKEN = 'n8n-supportbot-7f3a9c2e51b04d6b';

/** The open channels of the bot world (botWorld.ts), which imopenlines.config.list.get lists. */
export const OPEN_CHANNELS = {
	SUPPORT: OPEN_LINES.SUPPORT,
	SALES: OPEN_LINES.SALES,
	INACTIVE: OPEN_LINES.ARCHIVE,
} as const;

export const BOT_DIALOGS = {
	/** Line 5, live chat, customer 599; the bot 39 holds the session 343. */
	WITH_BOT: 2001,
	/** Line 5, Telegram, customer 600; the bot 39 holds the session 344. */
	WITH_BOT_TELEGRAM: 2002,
	/** Line 7, WhatsApp, customer 601; operator 27 took it over (session 345), the bot left. */
	WITH_OPERATOR: 2003,
	/** Line 5, live chat, customer 602; its only session 346 is finished. */
	FINISHED: 2004,
} as const;

export const CUSTOMERS = { GUEST: 599, TELEGRAM: 600, WHATSAPP: 601, FORMER: 602 } as const;

/** First message IDs of the seeded dialogs' history (clear of the portal's message counter). */
const HISTORY_MESSAGE_ID = 86_300;
const HISTORY_AT = Date.UTC(2025, 0, 15, 8, 0, 0);

function seedDialog(
	chatId: number,
	lineId: number,
	connectorId: string,
	customer: { id: number; name: string },
	sessionId: number,
	/** Who holds the open session, or 'finished' for a dialog whose only session is closed. */
	holder: number | 'finished',
	texts: Array<[number, string]>,
): BotDialog {
	const messages = texts.map(([authorId, text], index) => ({
		id: HISTORY_MESSAGE_ID + (chatId - BOT_DIALOGS.WITH_BOT) * 10 + index,
		sessionId,
		authorId,
		text,
		at: HISTORY_AT + index * 60_000,
		system: authorId === 0,
	}));
	return {
		chatId,
		lineId,
		connectorId,
		customer,
		sessionId,
		sessionIds: [sessionId],
		sessionOpen: holder !== 'finished',
		holder: holder === 'finished' ? 0 : holder,
		members: [customer.id, ...(holder === 'finished' ? [] : [holder])],
		botLeaves: 'queue',
		crm: { type: 'LEAD', id: 1195 },
		messages,
	};
}

function seedBotSessions(oauthClientId: string | undefined): BotSessions {
	const bot = BOTS.SUPPORT_BOT;
	return {
		bots: [
			{ id: bot, code: 'supportbot', name: 'SupportBot', botToken: SUPPORT_BOT_TOKEN },
			// Registered by the seeded OAuth application: calls over OAuth need no token.
			{ id: BOTS.SURVEY_BOT, code: 'surveybot', name: 'SurveyBot', clientId: oauthClientId },
		],
		lines: [
			{ id: OPEN_CHANNELS.SUPPORT, name: 'Customer support', active: true, queue: [27] },
			{ id: OPEN_CHANNELS.SALES, name: 'Sales', active: true, queue: [27, 31] },
			{ id: OPEN_CHANNELS.INACTIVE, name: 'Old website chat', active: false, queue: [] },
		],
		dialogs: [
			seedDialog(
				BOT_DIALOGS.WITH_BOT,
				OPEN_CHANNELS.SUPPORT,
				'livechat',
				{ id: CUSTOMERS.GUEST, name: 'Guest' },
				343,
				bot,
				[
					[CUSTOMERS.GUEST, 'Hi, where is my order #1045?'],
					[bot, 'Hello! Let me check [b]#1045[/b].'],
					[CUSTOMERS.GUEST, 'Thanks'],
				],
			),
			seedDialog(
				BOT_DIALOGS.WITH_BOT_TELEGRAM,
				OPEN_CHANNELS.SUPPORT,
				'telegrambot',
				{ id: CUSTOMERS.TELEGRAM, name: 'Pavel' },
				344,
				bot,
				[[CUSTOMERS.TELEGRAM, 'Do you ship to Riga?']],
			),
			seedDialog(
				BOT_DIALOGS.WITH_OPERATOR,
				OPEN_CHANNELS.SALES,
				'whatsapp',
				{ id: CUSTOMERS.WHATSAPP, name: 'Olga' },
				345,
				USERS.OLEG_OPERATOR,
				[
					[CUSTOMERS.WHATSAPP, 'I want a discount'],
					[0, 'The dialog was transferred to an operator'],
					[USERS.OLEG_OPERATOR, 'Hello, Oleg here.'],
				],
			),
			seedDialog(
				BOT_DIALOGS.FINISHED,
				OPEN_CHANNELS.SUPPORT,
				'livechat',
				{ id: CUSTOMERS.FORMER, name: 'Former guest' },
				346,
				'finished',
				[[CUSTOMERS.FORMER, 'Bye']],
			),
		],
		events: [],
		nextSessionId: 400,
	};
}

const states = new WeakMap<World, BotSessions>();

/** The bot side of this world (seeded on first use; a new world starts afresh). */
export function botSessionsOf(world: World): BotSessions {
	let state = states.get(world);
	if (!state) {
		state = seedBotSessions(world.oauthApps[0]?.clientId);
		states.set(world, state);
	}
	return state;
}

/** The registry's one lookup by ID. */
export function botById(world: World, id: number): RegisteredBot | undefined {
	return botSessionsOf(world).bots.find((b) => b.id === id);
}

/** The application key a bot belongs to (Im\Bot's APP_ID): `custom<botToken>` or the OAuth client_id. */
const appIdOf = (bot: RegisteredBot): string | undefined =>
	bot.botToken !== undefined ? `custom${bot.botToken}` : bot.clientId;

/** Im\Bot::getBotIdByAppId: the first bot registered by the caller's application, or undefined. */
export function botOwnedBy(world: World, appId: string): RegisteredBot | undefined {
	return botSessionsOf(world).bots.find((b) => appIdOf(b) === appId);
}

export function dialogOf(world: World, chatId: number): BotDialog | undefined {
	return botSessionsOf(world).dialogs.find((d) => d.chatId === chatId);
}

const isBot = (world: World, id: number): boolean => botById(world, id) !== undefined;

/** Messages of the emulated bot world are 400 unless the server code gives another status. */
const fail = (code: string, description: string, status = 400) =>
	new RestError(status, code, description);

/** A param the way the Engine controllers read it: the first of the names that is set and not "". */
function paramOf(params: ParamRecord, names: readonly string[]): string | undefined {
	for (const name of names) {
		const value = scalarString(params[name]);
		if (value !== undefined && value !== '') return value;
	}
	return undefined;
}

/**
 * BotController::processBeforeAction: the caller's application (OAuth: its client_id; webhook: `custom` + botToken
 * or CLIENT_ID), then botId, the bot, and its owner. Every failure is 400 (RestManager turns an Engine error
 * without a status into STATUS_WRONG_REQUEST).
 */
function ownedBot(params: ParamRecord, ctx: CallContext): RegisteredBot {
	const token = paramOf(params, ['botToken', 'BOT_TOKEN', 'clientId', 'CLIENT_ID']);
	const appId = ctx.clientId ?? (token !== undefined ? `custom${token}` : undefined);
	if (appId === undefined)
		throw fail(
			'BOT_TOKEN_NOT_SPECIFIED',
			'Bot token not specified (botToken is required for webhook auth)',
		);
	const botId = phpInt(params.botId ?? params.BOT_ID ?? null);
	if (botId <= 0) throw fail('BOT_ID_REQUIRED', 'botId is required');
	const bot = botById(ctx.world, botId);
	if (!bot) throw fail('BOT_NOT_FOUND', 'Bot not found');
	if (appIdOf(bot) !== appId)
		throw fail('BOT_OWNERSHIP_ERROR', 'Bot was installed by another rest application');
	return bot;
}

/** Dialog::getChatId: `chat<ID>` names a group chat; a bare number would be a private dialog (none here). */
function dialogOfParam(world: World, value: ParamValue | undefined): BotDialog | undefined {
	const match = /^chat(\d+)$/.exec(scalarString(value) ?? '');
	return match ? dialogOf(world, Number(match[1])) : undefined;
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
	const bot = ownedBot(params, ctx);
	const dialog = dialogOfParam(ctx.world, params.dialogId ?? params.DIALOG_ID);
	if (!dialog || !dialog.members.includes(bot.id))
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
	const message: DialogMessage = {
		id: ctx.world.nextMessageId++,
		sessionId: dialog.sessionId,
		authorId: bot.id,
		text: truncated((text ?? '').trim()),
		at: ctx.now(),
		system: false,
		...(keyboard ? { keyboard } : {}),
		...(attach ? { attach } : {}),
	};
	dialog.messages.push(message);
	return { result: { id: message.id, uuidMap: {} } };
}

/** imopenlines/lib/rest.php: CHAT_ID's (int) cast must be above 0. */
function chatIdOf(params: ParamRecord): number {
	const chatId = phpInt(params.CHAT_ID ?? params.chat_id ?? null);
	if (chatId <= 0) throw fail('CHAT_ID_EMPTY', "Chat ID can't be empty");
	return chatId;
}

/** resolveClientId: OAuth's client_id, else `custom` + CLIENT_ID; without one an AccessException (403). */
function callerAppId(params: ParamRecord, ctx: CallContext): string {
	if (ctx.clientId !== undefined) return ctx.clientId;
	const clientId = scalarString(params.CLIENT_ID ?? params.client_id ?? null) ?? '';
	if (clientId === '')
		throw new RestError(403, 'ACCESS_DENIED', 'Access denied! Client ID not specified.');
	return `custom${clientId}`;
}

const system = (dialog: BotDialog, text: string, at: number, world: World): void => {
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
	const dialog = dialogOf(ctx.world, chatId);
	if (!dialog || !dialog.sessionOpen || !isBot(ctx.world, dialog.holder))
		throw fail('WRONG_CHAT', 'Operator is not a bot');
	const botId = dialog.holder;
	if (dialog.botLeaves === 'queue') dialog.members = dialog.members.filter((m) => m !== botId);
	dialog.holder = 0;
	system(dialog, 'The chat bot has passed the dialog to an operator', ctx.now(), ctx.world);
	botSessionsOf(ctx.world).events.push({ kind: 'operator', chatId, at: ctx.now() });
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
	const bot = botOwnedBy(ctx.world, callerAppId(params, ctx));
	if (!bot) throw fail('BOT_ID_ERROR', 'Bot not found');
	const dialog = dialogOf(ctx.world, chatId);
	const state = botSessionsOf(ctx.world);
	const targetOk = to.startsWith('queue')
		? state.lines.some((line) => line.id === Number(to.slice(5)))
		: findUser(ctx.world, Number(to))?.active === true;
	if (!dialog || !dialog.sessionOpen || !targetOk)
		throw fail('OPERATOR_WRONG', 'You can not redirect to this operator');
	const leave = params.LEAVE === 'Y';
	if (to.startsWith('queue')) {
		dialog.lineId = Number(to.slice(5));
		dialog.holder = 0;
	} else {
		dialog.holder = Number(to);
		if (!dialog.members.includes(dialog.holder)) dialog.members.push(dialog.holder);
	}
	if (leave) dialog.members = dialog.members.filter((m) => m !== bot.id);
	system(dialog, `The dialog was transferred (${to})`, ctx.now(), ctx.world);
	state.events.push({ kind: 'transfer', chatId, to, leave, botId: bot.id, at: ctx.now() });
	return { result: true };
}

/**
 * botSessionFinish: CHAT_ID, the caller's bot (BOT_ID_ERROR when its application registered none); then the bot
 * answers and the session is finished. A chat without an open session is no error.
 */
function sessionFinish(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const chatId = chatIdOf(params);
	const bot = botOwnedBy(ctx.world, callerAppId(params, ctx));
	if (!bot) throw fail('BOT_ID_ERROR', 'Bot not found');
	const dialog = dialogOf(ctx.world, chatId);
	if (dialog?.sessionOpen === true) {
		dialog.sessionOpen = false;
		dialog.holder = bot.id;
		system(dialog, 'The dialog is finished', ctx.now(), ctx.world);
		botSessionsOf(ctx.world).events.push({ kind: 'finish', chatId, botId: bot.id, at: ctx.now() });
	}
	return { result: true };
}

/** A user of the history's `users`: the customer is a connector (imconnector), bots are bots. */
function historyUser(world: World, dialog: BotDialog, id: number): Record<string, unknown> {
	const bot = botById(world, id);
	const employee = findUser(world, id);
	const customer = id === dialog.customer.id;
	const name = customer
		? dialog.customer.name
		: (bot?.name ?? [employee?.name, employee?.lastName].filter(Boolean).join(' '));
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

/** The chat's entity strings (§4.4 of the bots doc). */
function entityStrings(dialog: BotDialog, sessionId: number): Record<string, string> {
	const crm = dialog.crm;
	return {
		entityType: 'LINES',
		entityId: `${dialog.connectorId}|${dialog.lineId}|${dialog.chatId - 2}|${dialog.customer.id}`,
		entityData1: `${crm ? 'Y' : 'N'}|${crm?.type ?? 'NONE'}|${crm?.id ?? 0}|N|N|${sessionId}|1736928000|0|0|0`,
		entityData2: crm ? `${crm.type}|${crm.id}|COMPANY|0|CONTACT|0|DEAL|0` : '',
		entityData3: 'N',
	};
}

/**
 * sessionGetHistory: SESSION_ID, else the chat's latest session (MISSING_REQUIRED_PARAM without either,
 * INVALID_SESSION_ID when none is found); Operator::getSessionHistory answers ACCESS_DENIED for a session it
 * cannot find. Messages come keyed by ID, with the users who wrote them.
 */
function sessionHistory(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const { world } = ctx;
	const dialogs = botSessionsOf(world).dialogs;
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
	if (!dialog) throw fail('ACCESS_DENIED', 'Access denied');
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
					name: `${dialog.customer.name} - line ${dialog.lineId}`,
					...entityStrings(dialog, sessionId),
					type: 'lines',
					messageType: 'L',
				},
			},
			userBlockChat: {},
			userInChat: { [String(dialog.chatId)]: dialog.members },
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
