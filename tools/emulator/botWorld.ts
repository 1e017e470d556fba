/**
 * The bot side of the emulated portal (docs: ../shared/docs/bitrix24-bots.md): imbot.v2 bots registered over REST,
 * the open channels (lines) with their welcome-bot settings, the open-line dialogs (customer, line, session), the
 * chats' messages, the fetch queue and the record of webhook deliveries. Plain data, part of World.
 */
import { CHATS, OPEN_LINES } from './constants';

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

/** The open-line side of a chat: its line, its customer, the connector's IDs and the current session. */
export interface LineDialog {
	chatId: number;
	lineId: number;
	customerId: number;
	customerName: string;
	/** The chat's ID inside the channel (entityId position 3). */
	connectorChatId: number;
	sessionId: number;
	/** How many sessions this customer had: `WELCOME_BOT_JOIN = first` joins only the first. */
	sessions: number;
	/** The bot that holds the session (joined as the line's welcome bot), if any. */
	heldByBot?: number;
}

/** A message in an open-line chat other than imopenlines.crm.message.add's (those are in `messages`). */
export interface ChatMessage {
	id: number;
	chatId: number;
	authorId: number;
	text: string;
	/** Emulator clock (ms). */
	at: number;
}

export type BotEventType =
	| 'ONIMBOTV2MESSAGEADD'
	| 'ONIMBOTV2MESSAGEUPDATE'
	| 'ONIMBOTV2JOINCHAT'
	| 'ONIMBOTV2DELETE';

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
	/** The status the receiver answered; null while under way or when no answer came. */
	status: number | null;
	/** Why no answer came (connection refused, timeout). */
	error?: string;
}

export interface BotWorld {
	registered: RegisteredBot[];
	lines: OpenLine[];
	dialogs: LineDialog[];
	chatMessages: ChatMessage[];
	queue: QueuedEvent[];
	deliveries: EventDelivery[];
	/** Portal-wide, increasing: event IDs of one bot have gaps (§7 Q10). */
	nextEventId: number;
	nextBotId: number;
	nextSessionId: number;
}

const line = (id: number, name: string, active = true): OpenLine => ({
	id,
	name,
	active,
	welcomeBotEnable: false,
	welcomeBotId: 0,
	welcomeBotJoin: 'always',
	welcomeBotTime: 600,
	welcomeBotLeft: 'queue',
	queue: [27],
});

/** Seeded chats by line: support takes the lead and contact chats, sales the deal and company chats. */
const SEED_DIALOGS: ReadonlyArray<[chatId: number, lineId: number, customerName: string]> = [
	[CHATS.LEAD_TELEGRAM_ACTIVE, OPEN_LINES.SUPPORT, 'Guest Telegram'],
	[CHATS.LEAD_WHATSAPP_FINISHED, OPEN_LINES.SUPPORT, 'Guest WhatsApp'],
	[CHATS.LEAD_LIVECHAT_NEW, OPEN_LINES.SUPPORT, 'Guest Live Chat'],
	[CHATS.LEAD2_LIVECHAT_ACTIVE, OPEN_LINES.SUPPORT, 'Callback Guest'],
	[CHATS.DEAL_TELEGRAM_ACTIVE, OPEN_LINES.SALES, 'Order Guest'],
	[CHATS.CONTACT_WHATSAPP_ACTIVE, OPEN_LINES.SUPPORT, 'Pavel Customer'],
	[CHATS.COMPANY_LIVECHAT_ACTIVE, OPEN_LINES.SALES, 'Acme Buyer'],
	[CHATS.RESTRICTED_LEAD_CHAT, OPEN_LINES.SUPPORT, 'Restricted Guest'],
];

/** Customers are connector users with their own IDs, clear of employees and bots. */
export const FIRST_CUSTOMER_ID = 600;
export const FIRST_SESSION_ID = 340;
/** First event ID: the docs' example range. */
export const FIRST_EVENT_ID = 1000;
/** Registered bots get IDs from here on, clear of users and seeded bots. */
export const FIRST_REGISTERED_BOT_ID = 456;

export function seedBotWorld(): BotWorld {
	return {
		registered: [],
		lines: [
			line(OPEN_LINES.SUPPORT, 'Customer support'),
			line(OPEN_LINES.SALES, 'Sales'),
			line(OPEN_LINES.ARCHIVE, 'Old website chat', false),
		],
		dialogs: SEED_DIALOGS.map(([chatId, lineId, customerName], index) => ({
			chatId,
			lineId,
			customerId: FIRST_CUSTOMER_ID + index,
			customerName,
			connectorChatId: 1700 + index,
			sessionId: FIRST_SESSION_ID + index,
			sessions: 1,
		})),
		chatMessages: [],
		queue: [],
		deliveries: [],
		nextEventId: FIRST_EVENT_ID,
		nextBotId: FIRST_REGISTERED_BOT_ID,
		nextSessionId: FIRST_SESSION_ID + SEED_DIALOGS.length,
	};
}
