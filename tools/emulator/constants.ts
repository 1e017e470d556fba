/**
 * Fixed identifiers of the seeded emulator portal. Tests import these instead of repeating literals.
 */

/** Owner of both webhooks and the user the OAuth app acts as. */
export const ADMIN_USER_ID = 1;

/** Webhook with every scope the node needs. */
export const WEBHOOK_CODE = 'k7x9q2m4w8z1v5r3';
/** Webhook limited to `crm` and `user`: imopenlines calls answer 403 insufficient_scope. */
export const LIMITED_WEBHOOK_CODE = 'crmonly0user0scope';
export const FULL_SCOPES = ['imopenlines', 'user', 'crm', 'imbot', 'im'] as const;
export const LIMITED_SCOPES = ['crm', 'user'] as const;

/** The seeded local OAuth application. */
export const OAUTH_CLIENT_ID = 'local.6650a1b2c3d4e5.12345678';
export const OAUTH_CLIENT_SECRET = 'Zq3dWv8sLk2mNp7xRt5yHb9cFg4jKe6aUw1oIz0';
export const OAUTH_REDIRECT_URI = 'http://localhost:5678/rest/oauth2-credential/callback';
/** `domain` of the token response: the OAuth server, not the portal. */
export const OAUTH_SERVER_DOMAIN = 'oauth.bitrix.info';
export const MEMBER_ID = 'a223c6b3710f85df22e9377d6c4f7553';
/** Authorization codes live 30 s and are single use. */
export const AUTH_CODE_TTL_MS = 30_000;

export const USERS = {
	ANNA_ADMIN: 1,
	OLEG_OPERATOR: 27,
	MARIA_MANAGER: 31,
	IVAN_FORMER: 45,
} as const;
export const BOTS = { SUPPORT_BOT: 39, SURVEY_BOT: 40 } as const;
/** The seeded bots' IDs: tests tell the bots they registered from these. */
export const SEEDED_BOT_IDS: readonly number[] = Object.values(BOTS);
/** SupportBot's webhook token: long enough for secret scrubbing, at most 40 characters. */
export const SUPPORT_BOT_TOKEN = 'n8n-supportbot-7f3a9c2e51b04d6b';

export const LEADS = {
	WEBSITE_INQUIRY: 1195,
	CALLBACK_REQUEST: 1196,
	NO_CHATS: 1197,
	RESTRICTED: 1198,
} as const;
export const DEALS = { ORDER_501: 501 } as const;
export const CONTACTS = { PAVEL_CUSTOMER: 77 } as const;
export const COMPANIES = { ACME: 12 } as const;
/** A CRM type chats are never linked to: readable, listed by no chat method. */
export const QUOTES = { SPRING_OFFER: 7 } as const;

export const CHATS = {
	/** lead 1195, Telegram, in progress, members 1, 27, 39: the happy path. */
	LEAD_TELEGRAM_ACTIVE: 1341,
	/** lead 1195, WhatsApp, finished. */
	LEAD_WHATSAPP_FINISHED: 1342,
	/** lead 1195, Live Chat, new (unanswered). */
	LEAD_LIVECHAT_NEW: 1343,
	/** lead 1196, Live Chat, in progress. */
	LEAD2_LIVECHAT_ACTIVE: 1400,
	/** deal 501, Telegram, in progress, members 1, 27, 31. */
	DEAL_TELEGRAM_ACTIVE: 1500,
	/** contact 77, WhatsApp, in progress. */
	CONTACT_WHATSAPP_ACTIVE: 1600,
	/** company 12, Live Chat, in progress. */
	COMPANY_LIVECHAT_ACTIVE: 1700,
	/** lead 1198 (the caller has no access), in progress. */
	RESTRICTED_LEAD_CHAT: 1800,
} as const;

/** The seeded open channels (imopenlines lines): two active, one switched off. */
export const OPEN_LINES = { SUPPORT: 1, SALES: 2, ARCHIVE: 3 } as const;

/** Open-line chats with a bot, not saved in CRM (botWorld.ts seeds their sessions and history). */
export const BOT_DIALOGS = {
	/** Line 1, live chat, customer 599; SupportBot 39 holds the session 343. */
	WITH_BOT: 2001,
	/** Line 1, Telegram, customer 600; SupportBot 39 holds the session 344. */
	WITH_BOT_TELEGRAM: 2002,
	/** Line 2, WhatsApp, customer 601; operator 27 took it over (session 345), the bot left. */
	WITH_OPERATOR: 2003,
	/** Line 1, live chat, customer 602; its only session 346 is finished. */
	FINISHED: 2004,
} as const;
/** The bot dialogs' customers (connector users). */
export const CUSTOMERS = { GUEST: 599, TELEGRAM: 600, WHATSAPP: 601, FORMER: 602 } as const;

/** When the seeded chats' dialogs were last active (ms): chat 1341 then, the next IDs a minute later each. */
export const SEED_ACTIVITY_AT = Date.UTC(2025, 0, 15, 9, 0, 0);

/** First ID handed out by imopenlines.crm.message.add (the docs' example value). */
export const FIRST_MESSAGE_ID = 19880117;
/** Bitrix24 truncates longer messages and appends TRUNCATION_SUFFIX. */
export const MESSAGE_MAX_LENGTH = 20_000;
export const TRUNCATION_SUFFIX = ' (...)';
/** Commands allowed in one batch call. */
export const BATCH_MAX_COMMANDS = 50;
/** Page size of list methods (`start` paging). */
export const PAGE_SIZE = 50;

export const DEFAULT_BURST_LIMIT = 50;
export const DEFAULT_REQUESTS_PER_SECOND = 2;
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** PRNG seed of the link jitter when none is given, so a jittered run repeats. */
export const DEFAULT_JITTER_SEED = 20240117;
