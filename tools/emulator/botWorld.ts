/**
 * The bot side of the emulated portal (docs: ../shared/docs/bitrix24-bots.md): imbot.v2 bots registered over REST,
 * the open channels (lines) with their welcome-bot settings, the open-line dialogs (customer, line, session), the
 * chats' messages, the fetch queue and the record of webhook deliveries. Plain data, part of World.
 */
import {
	BOT_DIALOGS,
	BOTS,
	CHATS,
	CUSTOMERS,
	OAUTH_CLIENT_ID,
	OPEN_LINES,
	SUPPORT_BOT_TOKEN,
	USERS,
} from './constants';
import type { ParamRecord, ParamValue } from './params';

export type BotType = 'bot' | 'supervisor' | 'personal' | 'openline';
export type EventMode = 'fetch' | 'webhook';

export interface BotProperties {
	name: string;
	lastName: string;
	workPosition: string;
	color: string;
	gender: string;
}

/** A bot registered with imbot.v2.Bot.register. */
export interface RegisteredBot {
	id: number;
	code: string;
	type: BotType;
	/**
	 * The "application" that owns the bot: `token:<botToken>` under an inbound webhook (each token is its own
	 * application), `app:<client_id>` under OAuth (bots-v2/index.md).
	 */
	owner: string;
	/** The token of a webhook-registered bot (rotated by Bot.update); undefined for OAuth bots. */
	botToken?: string;
	/** The APPLICATION_TOKEN events carry in auth[application_token]; a new value on rotation (§7 Q5). */
	applicationToken: string;
	eventMode: EventMode;
	webhookUrl: string;
	isHidden: boolean;
	isReactionsEnabled: boolean;
	isSupportOpenline: boolean;
	backgroundId: string | null;
	language: string;
	properties: BotProperties;
	countMessage: number;
	/** Commands of the bot invoked so far (Bot.get's countCommand). */
	countCommand: number;
}

/** One open channel (imopenlines config), with the welcome-bot fields of imopenlines.config.update. */
export interface OpenLine {
	id: number;
	name: string;
	active: boolean;
	welcomeBotEnable: boolean;
	/** 0: none. */
	welcomeBotId: number;
	welcomeBotJoin: 'always' | 'first';
	welcomeBotTime: number;
	welcomeBotLeft: 'queue' | 'close';
	/** Operator user IDs. */
	queue: number[];
}

/**
 * The open-line side of a chat (its OpenLineChat in `world.chats` holds the members and the session's status): the
 * line, the customer, the connector's IDs, the sessions, who answers, and every message posted into it other than
 * imopenlines.crm.message.add's record (`messages` of the emulator keeps those too).
 */
export interface LineDialog {
	chatId: number;
	lineId: number;
	customerId: number;
	customerName: string;
	/** The chat's ID inside the channel (entityId position 3). */
	connectorChatId: number;
	/** The current session. */
	sessionId: number;
	/** Every session of the chat, oldest first (`WELCOME_BOT_JOIN = first` joins only the first). */
	sessionIds: number[];
	/**
	 * Who answers the current session: a bot (the line's welcome bot once it joined), an operator, 0 while it waits
	 * in the line's queue after a hand-over; undefined while nobody took it yet (the welcome bot may join).
	 */
	holder?: number;
	/** The chat's messages in order, every session's (history reads one session). */
	messages: DialogMessage[];
}

/** A message in an open-line chat: a customer's, an operator's, a bot's, or the line's own (system, author 0). */
export interface DialogMessage {
	id: number;
	sessionId: number;
	/** 0 for the line's system messages. */
	authorId: number;
	text: string;
	/** Emulator clock (ms). */
	at: number;
	system: boolean;
	/** The keyboard as Bitrix24 stores it (BUTTONS), when a bot's message had one. */
	keyboard?: ParamValue[];
	/** The attachment as Bitrix24 stores it (full form, attach.ts), when a bot's message had one. */
	attach?: ParamRecord;
}

/** What happened to a dialog through imopenlines.bot.session.*, in order, for tests and the demo. */
export type SessionEvent =
	| { kind: 'operator'; chatId: number; botId: number; at: number }
	| { kind: 'transfer'; chatId: number; to: string; leave: boolean; botId: number; at: number }
	| { kind: 'finish'; chatId: number; botId: number; at: number };

export type BotEventType =
	| 'ONIMBOTV2MESSAGEADD'
	| 'ONIMBOTV2MESSAGEUPDATE'
	| 'ONIMBOTV2JOINCHAT'
	| 'ONIMBOTV2COMMANDADD'
	| 'ONIMBOTV2DELETE';

/**
 * A bot's slash command (imbot.v2.Command.register): what a keyboard button's COMMAND names. Kept without its
 * slash, as Bitrix24 keeps it (Im\Command::register strips one).
 */
export interface BotCommand {
	id: number;
	botId: number;
	command: string;
	/** `{langCode: text}`; a visible command needs one. */
	title: Record<string, string>;
	params: Record<string, string>;
	/** Usable in any chat; otherwise only in chats the bot is in (findCommands). */
	common: boolean;
	hidden: boolean;
	/** Usable by extranet users, which open-channel customers are (Q7): without it their presses reach nobody. */
	extranetSupport: boolean;
}

/** An event of a fetch-mode bot, waiting for imbot.v2.Event.get. */
export interface QueuedEvent {
	eventId: number;
	botId: number;
	type: BotEventType;
	/** Emulator clock (ms). */
	at: number;
	/** The typed (fetch-form) data. */
	data: Record<string, unknown>;
}

/** One POST of an event to a webhook-mode bot's URL. */
export interface EventDelivery {
	eventId: number;
	botId: number;
	type: BotEventType;
	url: string;
	/** The form-encoded body as sent. */
	body: string;
	/** Emulator clock (ms) when the POST started (deliveries to one bot wait for the one before). */
	postedAt?: number;
	/** Emulator clock (ms) when the answer came or the POST gave up. */
	answeredAt?: number;
	/** The status the receiver answered; null while under way or when no answer came. */
	status: number | null;
	/** Why no answer came (connection refused, timeout). */
	error?: string;
}

export interface BotWorld {
	registered: RegisteredBot[];
	lines: OpenLine[];
	dialogs: LineDialog[];
	/** Hand-overs, transfers and finishes, in order. */
	sessionEvents: SessionEvent[];
	queue: QueuedEvent[];
	deliveries: EventDelivery[];
	/** Every bot's commands (Command.register), oldest first. */
	commands: BotCommand[];
	nextCommandId: number;
	/** Portal-wide, increasing: event IDs of one bot have gaps (§7 Q10). */
	nextEventId: number;
	nextBotId: number;
	nextSessionId: number;
}

const line = (id: number, name: string, queue: number[], active = true): OpenLine => ({
	id,
	name,
	active,
	welcomeBotEnable: false,
	welcomeBotId: 0,
	welcomeBotJoin: 'always',
	welcomeBotTime: 600,
	welcomeBotLeft: 'queue',
	queue,
});

/** Seeded CRM chats by line: support takes the lead and contact chats, sales the deal and company chats. */
const SEED_CRM_DIALOGS: ReadonlyArray<[chatId: number, lineId: number, customerName: string]> = [
	[CHATS.LEAD_TELEGRAM_ACTIVE, OPEN_LINES.SUPPORT, 'Guest Telegram'],
	[CHATS.LEAD_WHATSAPP_FINISHED, OPEN_LINES.SUPPORT, 'Guest WhatsApp'],
	[CHATS.LEAD_LIVECHAT_NEW, OPEN_LINES.SUPPORT, 'Guest Live Chat'],
	[CHATS.LEAD2_LIVECHAT_ACTIVE, OPEN_LINES.SUPPORT, 'Callback Guest'],
	[CHATS.DEAL_TELEGRAM_ACTIVE, OPEN_LINES.SALES, 'Order Guest'],
	[CHATS.CONTACT_WHATSAPP_ACTIVE, OPEN_LINES.SUPPORT, 'Pavel Customer'],
	[CHATS.COMPANY_LIVECHAT_ACTIVE, OPEN_LINES.SALES, 'Acme Buyer'],
	[CHATS.RESTRICTED_LEAD_CHAT, OPEN_LINES.SUPPORT, 'Restricted Guest'],
];

/** Customers of the CRM chats are connector users with their own IDs, clear of employees, bots and CUSTOMERS. */
export const FIRST_CUSTOMER_ID = 610;
/** Sessions of the CRM chats; the bot dialogs' are 343-346. */
export const FIRST_SESSION_ID = 330;
/** First event ID: the docs' example range. */
export const FIRST_EVENT_ID = 1000;
/** Command IDs: the docs' example range. */
export const FIRST_COMMAND_ID = 40;
/** Registered bots get IDs from here on, clear of users and seeded bots. */
export const FIRST_REGISTERED_BOT_ID = 456;
/** Sessions opened from now on (a finished dialog's customer writes again). */
const FIRST_NEW_SESSION_ID = 400;

/** First message IDs of the bot dialogs' seeded history (clear of the portal's message counter). */
const HISTORY_MESSAGE_ID = 86_300;
const HISTORY_AT = Date.UTC(2025, 0, 15, 8, 0, 0);

/**
 * The seeded bot dialogs (BOT_DIALOGS; their chats, not saved in CRM, are in world.ts): who holds the session
 * (or 'finished'), and the session's messages so far.
 */
const SEED_BOT_DIALOGS: ReadonlyArray<{
	chatId: number;
	lineId: number;
	customer: [id: number, name: string];
	sessionId: number;
	holder: number | 'finished';
	texts: Array<[authorId: number, text: string]>;
}> = [
	{
		chatId: BOT_DIALOGS.WITH_BOT,
		lineId: OPEN_LINES.SUPPORT,
		customer: [CUSTOMERS.GUEST, 'Guest'],
		sessionId: 343,
		holder: BOTS.SUPPORT_BOT,
		texts: [
			[CUSTOMERS.GUEST, 'Hi, where is my order #1045?'],
			[BOTS.SUPPORT_BOT, 'Hello! Let me check [b]#1045[/b].'],
			[CUSTOMERS.GUEST, 'Thanks'],
		],
	},
	{
		chatId: BOT_DIALOGS.WITH_BOT_TELEGRAM,
		lineId: OPEN_LINES.SUPPORT,
		customer: [CUSTOMERS.TELEGRAM, 'Pavel'],
		sessionId: 344,
		holder: BOTS.SUPPORT_BOT,
		texts: [[CUSTOMERS.TELEGRAM, 'Do you ship to Riga?']],
	},
	{
		chatId: BOT_DIALOGS.WITH_OPERATOR,
		lineId: OPEN_LINES.SALES,
		customer: [CUSTOMERS.WHATSAPP, 'Olga'],
		sessionId: 345,
		holder: USERS.OLEG_OPERATOR,
		texts: [
			[CUSTOMERS.WHATSAPP, 'I want a discount'],
			[0, 'The dialog was transferred to an operator'],
			[USERS.OLEG_OPERATOR, 'Hello, Oleg here.'],
		],
	},
	{
		chatId: BOT_DIALOGS.FINISHED,
		lineId: OPEN_LINES.SUPPORT,
		customer: [CUSTOMERS.FORMER, 'Former guest'],
		sessionId: 346,
		holder: 'finished',
		texts: [[CUSTOMERS.FORMER, 'Bye']],
	},
];

const seedBotDialog = ({
	chatId,
	lineId,
	customer,
	sessionId,
	holder,
	texts,
}: (typeof SEED_BOT_DIALOGS)[number]): LineDialog => ({
	chatId,
	lineId,
	customerId: customer[0],
	customerName: customer[1],
	connectorChatId: chatId - 2,
	sessionId,
	sessionIds: [sessionId],
	holder: holder === 'finished' ? 0 : holder,
	messages: texts.map(([authorId, text], index) => ({
		id: HISTORY_MESSAGE_ID + (chatId - BOT_DIALOGS.WITH_BOT) * 10 + index,
		sessionId,
		authorId,
		text,
		at: HISTORY_AT + index * 60_000,
		system: authorId === 0,
	})),
});

/** A seeded imbot.v2 bot (fetch mode until its application switches it): one registry for every bot method. */
const seededBot = (
	id: number,
	code: string,
	name: string,
	openline: boolean,
	owner: string,
	botToken?: string,
): RegisteredBot => ({
	id,
	code,
	type: openline ? 'openline' : 'bot',
	owner,
	botToken,
	applicationToken: `seeded${id}`.padEnd(32, '0'),
	eventMode: 'fetch',
	webhookUrl: '',
	isHidden: false,
	isReactionsEnabled: true,
	isSupportOpenline: openline,
	backgroundId: null,
	language: 'en',
	properties: { name, lastName: '', workPosition: '', color: 'mint', gender: 'M' },
	countMessage: 0,
	countCommand: 0,
});

export function seedBotWorld(): BotWorld {
	return {
		registered: [
			seededBot(
				BOTS.SUPPORT_BOT,
				'supportbot',
				'SupportBot',
				true,
				`token:${SUPPORT_BOT_TOKEN}`,
				SUPPORT_BOT_TOKEN,
			),
			// Registered by the seeded OAuth application: calls over OAuth need no token.
			seededBot(BOTS.SURVEY_BOT, 'surveybot', 'SurveyBot', false, `app:${OAUTH_CLIENT_ID}`),
		],
		lines: [
			line(OPEN_LINES.SUPPORT, 'Customer support', [USERS.OLEG_OPERATOR]),
			line(OPEN_LINES.SALES, 'Sales', [USERS.OLEG_OPERATOR, USERS.MARIA_MANAGER]),
			line(OPEN_LINES.ARCHIVE, 'Old website chat', [], false),
		],
		dialogs: [
			...SEED_CRM_DIALOGS.map(([chatId, lineId, customerName], index) => ({
				chatId,
				lineId,
				customerId: FIRST_CUSTOMER_ID + index,
				customerName,
				connectorChatId: 1700 + index,
				sessionId: FIRST_SESSION_ID + index,
				sessionIds: [FIRST_SESSION_ID + index],
				messages: [],
			})),
			...SEED_BOT_DIALOGS.map(seedBotDialog),
		],
		sessionEvents: [],
		queue: [],
		deliveries: [],
		commands: [],
		nextCommandId: FIRST_COMMAND_ID,
		nextEventId: FIRST_EVENT_ID,
		nextBotId: FIRST_REGISTERED_BOT_ID,
		nextSessionId: FIRST_NEW_SESSION_ID,
	};
}
