import type { IDataObject } from 'n8n-workflow';

import { METHODS } from './methods';

/** What the node knows about one request, used to phrase errors about it. */
export interface MessageTarget {
	crmEntityType?: string;
	crmEntityId?: number;
	userId?: number;
	chatId?: number;
	/** The Bitrix24 scope the call needs, when it is not imopenlines (the pick-lists' user and imbot calls). */
	scope?: string;
	/** The bot a Bot Dialog operation acts as. */
	botId?: number;
	/** Where a transfer goes, in words: "user 31", "open channel 7". */
	transferTo?: string;
}

/**
 * Whether the message of a failed item can have been posted: `not_sent` (Bitrix24 refused it, the node
 * stopped it, or no connection was made: safe to send again) or `unknown` (check the chat first).
 */
export type Delivery = 'not_sent' | 'unknown';

/** A failed REST call or item, in the shape the item's error output carries. */
export class Bitrix24Failure extends Error {
	/** Whether the call can have acted on the portal; see Delivery. */
	readonly delivery: Delivery;

	constructor(
		readonly code: string,
		/** Bitrix24's `error_description`, or the node's own reason when Bitrix24 said nothing. */
		readonly description: string,
		/** HTTP status of Bitrix24's answer; null when no answer came (nothing sent, or the connection failed). */
		readonly httpStatus: number | null,
		/** The Bitrix24 parameter at fault, for ERROR_ARGUMENT. */
		readonly argument?: string,
		/** The REST method that failed; unset when the node stopped the item before calling Bitrix24. */
		readonly method?: string,
		delivery?: Delivery,
	) {
		super(`${code}: ${description}`);
		this.name = 'Bitrix24Failure';
		this.delivery = delivery ?? deliveryOf(code, httpStatus);
	}

	/** The same failure of another method (a batch call's failure, told per command). */
	of(method: string): Bitrix24Failure {
		return new Bitrix24Failure(
			this.code,
			this.description,
			this.httpStatus,
			this.argument,
			method,
			this.delivery,
		);
	}

	/** The same failure, for a call that posts nothing (a lookup): the item's message was not sent. */
	beforeSending(): Bitrix24Failure {
		return new Bitrix24Failure(
			this.code,
			this.description,
			this.httpStatus,
			this.argument,
			this.method,
			'not_sent',
		);
	}

	/** The same failure with the secrets an answer may echo (webhook code, tokens) masked in its description. */
	scrubbed(secrets: readonly string[]): Bitrix24Failure {
		const description = scrubSecrets(this.description, secrets);
		return description === this.description
			? this
			: new Bitrix24Failure(
					this.code,
					description,
					this.httpStatus,
					this.argument,
					this.method,
					this.delivery,
				);
	}

	get details(): IDataObject {
		const details: IDataObject = {
			code: this.code,
			description: this.description,
			httpStatus: this.httpStatus,
			delivery: this.delivery,
		};
		if (this.argument !== undefined) details.argument = this.argument;
		if (this.method !== undefined) details.method = this.method;
		return details;
	}
}

/** Shapes that carry a secret in answers and error pages: a webhook path, a token or secret parameter, a bearer header. */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
	[/(\/rest\/\d+\/)[A-Za-z0-9_]+/g, '$1***'],
	[/\b(auth|access_token|refresh_token|client_secret|code)=[^&\s"']+/gi, '$1=***'],
	[/\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 ***'],
];

/** Masks the given secrets and anything shaped like one. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
	let scrubbed = text;
	for (const secret of secrets) {
		// Short values could mask ordinary words; Bitrix24's codes and tokens are long.
		if (secret.length >= 6) scrubbed = scrubbed.split(secret).join('***');
	}
	for (const [pattern, replacement] of SECRET_PATTERNS)
		scrubbed = scrubbed.replace(pattern, replacement);
	return scrubbed;
}

interface ErrorExplanation {
	/** The HTTP status Bitrix24 answers the code with alone; batch answers carry none per command. */
	status?: number;
	/** Methods that answer the code with another status than `status` (so a batch command reads as the lone call). */
	statusOfMethod?: Partial<Record<string, number>>;
	/**
	 * Whether a call that failed so can have acted. Codes without it: `unknown` for a 5xx or no answer,
	 * `not_sent` for a refusal (4xx).
	 */
	delivery?: Delivery;
	/** What happened, phrased for a person; the node appends the code. */
	reason: (context: MessageTarget, failure: Bitrix24Failure) => string;
	/** How to fix it. */
	hint: string;
	/**
	 * The messenger's application exception carries this code, and nothing resets it within a batch: every later
	 * failing command of the same batch call is reported with this code and text too (rest.php::processException).
	 */
	leaksInBatch?: true;
	/**
	 * Bitrix24 refused the credential, not this one call (the auth layer's 401s, or n8n could not refresh it):
	 * every call of the run would get the same (all of the node's calls need the imopenlines scope), so the run's
	 * later calls fail with it, unsent.
	 */
	refusesEveryCall?: true;
	/**
	 * The same code with another meaning at another HTTP status: Bitrix24's auth layer answers every refusal 401
	 * (rest/lib/oauthexception.php), some with a code a method also uses.
	 */
	atStatus?: Record<number, Omit<ErrorExplanation, 'atStatus'>>;
}

const entity = (context: MessageTarget) =>
	`${context.crmEntityType ?? 'the CRM entity'}${context.crmEntityId !== undefined ? ` ${context.crmEntityId}` : ''}`;
const chat = (context: MessageTarget) =>
	context.chatId !== undefined ? `the chat ${context.chatId}` : 'the chat';
const sender = (context: MessageTarget) =>
	context.userId !== undefined ? `the sender ${context.userId}` : 'the sender';

const ON_PORTAL_SIDE = 'This is on the Bitrix24 side: contact Bitrix24 support if it persists.';

/** Whether the method named is the item's own message (not a lookup) for the wording. */
const postsMessage = (f: Bitrix24Failure) =>
	f.method === undefined || f.method === METHODS.sendMessage || f.method === METHODS.botSendMessage;

const bot = (context: MessageTarget) =>
	context.botId !== undefined ? `the bot ${context.botId}` : 'the bot';

/** ACCESS_DENIED of the Bot Dialog methods, which Bitrix24 answers 400 (imbot.v2, the history) or 403. */
const BOT_ACCESS_DENIED: Partial<Record<string, (c: MessageTarget) => string>> = {
	[METHODS.botSendMessage]: (c) =>
		`Bitrix24 refused the message: ${bot(c)} is not a member of ${chat(c)} (a bot leaves the dialog when an operator takes it over)`,
	[METHODS.sessionHistory]: (c) =>
		`Bitrix24 denied access to the history of ${chat(c)}: the session was not found, or the credential's user may not view it`,
	[METHODS.botTransfer]: () =>
		'Bitrix24 refused the bot call: the webhook credential has no Bot Token (Client ID not specified)',
	[METHODS.botFinish]: () =>
		'Bitrix24 refused the bot call: the webhook credential has no Bot Token (Client ID not specified)',
};

const BOT_TOKEN_HINT =
	'Open the Bitrix24 Webhook API credential and fill in Bot Token with the token the bot was registered with (imbot.v2 botToken); an OAuth2 credential needs none, its application owns its bots.';

/**
 * Every Bitrix24 error code the node can meet, with a sentence and a hint.
 * Sources: the method's documentation, Bitrix24's list of system errors, and the node's own codes
 * (INVALID_WEBHOOK_URL, INVALID_PORTAL_URL, UNEXPECTED_RESPONSE, NO_ACTIVE_CHAT, CREDENTIAL_ERROR, CONNECTION_FAILED,
 * DELIVERY_UNKNOWN, EXECUTION_STOPPED) for failures Bitrix24 gives no code to.
 */
const ERRORS: Record<string, ErrorExplanation> = {
	CHAT_NOT_IN_CRM: {
		status: 400,
		reason: (c) =>
			`Bitrix24 refused the message: ${chat(c)} is not linked to ${entity(c)} or its dialog is not in progress`,
		hint: 'Use a chat of this CRM entity whose dialog an operator has taken (imopenlines.crm.chat.get lists them); new, unanswered and finished dialogs do not accept messages.',
	},
	CANCELED: {
		status: 400,
		leaksInBatch: true,
		reason: (c) => `Bitrix24 refused the message: ${sender(c)} cannot send messages to ${chat(c)}`,
		hint: 'The sender must be a member of the chat: pick an operator or bot of this dialog, or add the sender to the chat first.',
	},
	ACCESS_DENIED: {
		status: 403,
		statusOfMethod: { [METHODS.botSendMessage]: 400, [METHODS.sessionHistory]: 400 },
		reason: (c, f) =>
			BOT_ACCESS_DENIED[f.method ?? '']?.(c) ?? `Bitrix24 denied access to ${entity(c)}`,
		hint: "Both the webhook's (or OAuth) user and the sender need read access to this CRM entity. For the Bot Dialog operations: the bot must be in the chat (it leaves at hand-over), and the webhook credential needs the Bot Token.",
		atStatus: {
			// imbot.v2 and the session history answer their refusals 400 (Engine errors, operator.php).
			400: {
				reason: (c, f) =>
					BOT_ACCESS_DENIED[f.method ?? '']?.(c) ?? `Bitrix24 denied access to ${chat(c)}`,
				hint: "A bot may post only into dialogs it is still in: once an operator took the dialog over (or it was transferred with the bot leaving), answer as the operator instead. The history needs a session of this chat the credential's user may view.",
			},
			// rest/lib/apauth/auth.php and oauth/auth.php: "REST is available only by subscription / on commercial plans."
			401: {
				refusesEveryCall: true,
				reason: () => "Bitrix24 refused the call: the portal's plan does not include the REST API",
				hint: "Webhooks and applications work on Bitrix24's commercial plans only (a free plan, or an expired subscription or trial, has no REST API). Renew or change the portal's plan; the credential itself is fine.",
			},
		},
	},
	ERROR_ARGUMENT: {
		status: 400,
		delivery: 'not_sent',
		// Caught by the node before sending (no HTTP status) or by Bitrix24.
		reason: (_c, f) =>
			f.httpStatus === null
				? f.description
				: `Bitrix24 rejected the parameter ${f.argument ?? 'of the request'}: ${f.description}`,
		hint: 'Check the field named in the error: IDs must be positive whole numbers, the entity type one of lead, deal, company, contact, and the message not empty (nor just "0").',
	},
	MESSAGE_ADD_ERROR: {
		status: 400,
		reason: (c) => `Bitrix24 could not post the message to ${chat(c)}`,
		hint: 'The chat accepted the request but the messenger failed to add the message. Check the chat in Bitrix24.',
	},
	// The messenger's own reasons replace MESSAGE_ADD_ERROR (imopenlines/lib/rest.php, rest.php::processException).
	ERROR_FROM_OTHER_MODULE: {
		status: 400,
		leaksInBatch: true,
		delivery: 'not_sent',
		reason: (c, f) =>
			`Another module of the portal refused the message to ${chat(c)}${f.description ? `: ${f.description}` : ''}`,
		hint: "An event handler on the portal (an application, a chat bot or a module that checks outgoing messages) vetoed it; its reason is in details.description. Ask the portal's administrator.",
	},
	ERROR_CORE: {
		// 400 for several refusals, 500 for a database error. A batch command carries no status: assume the
		// database error, after which the message may have been posted.
		status: 500,
		leaksInBatch: true,
		reason: (_c, f) =>
			`Bitrix24 reported several errors at once, or a database error${f.description ? `: ${f.description}` : ''}`,
		hint: 'Bitrix24 joins several refusals of the messenger under this code (their texts in details.description), and answers a database error so too (HTTP 500: then the message may have been posted).',
	},
	IM_NOT_INSTALLED: {
		status: 400,
		reason: () => 'The messenger (im) module is not installed on the Bitrix24 portal',
		hint: 'Open channels need the messenger: install or enable the Messenger (im) module of the portal.',
	},
	CRM_CHAT_USER_NOT_ACTIVE: {
		status: 400,
		reason: (c) =>
			`Bitrix24 could not add ${sender(c)} to ${chat(c)}: the user does not exist or is deactivated`,
		hint: 'Pick an active employee or a bot as the sender.',
	},
	WRONG_REQUEST: {
		status: 400,
		reason: (c) => `Bitrix24 refused to add ${sender(c)} to ${chat(c)}`,
		hint: 'The messenger would not take the sender into the chat. Add the sender to the dialog in Bitrix24, or pick an operator or bot already in it.',
	},
	// The Bot Dialog operations (imbot.v2: BotController; imopenlines/lib/rest.php botSession*, sessionGetHistory).
	BOT_TOKEN_NOT_SPECIFIED: {
		status: 400,
		reason: () => "Bitrix24 needs the bot's token: the webhook credential has no Bot Token",
		hint: BOT_TOKEN_HINT,
	},
	BOT_ID_REQUIRED: {
		status: 400,
		reason: () => 'Bitrix24 needs the ID of the bot to act as',
		hint: 'Pick the bot in the Bot field.',
	},
	BOT_NOT_FOUND: {
		status: 400,
		reason: (c) => `Bitrix24 has no ${bot(c)}`,
		hint: 'Pick a bot from the list, or check the ID the trigger gave.',
	},
	BOT_OWNERSHIP_ERROR: {
		status: 400,
		reason: (c) => `${bot(c).replace(/^t/, 'T')} belongs to another application or Bot Token`,
		hint: "The webhook credential's Bot Token must be the one the bot was registered with (after a rotation, the new one); over OAuth2 the bot must have been registered by the same application.",
	},
	BOT_ID_ERROR: {
		status: 400,
		reason: () => 'Bitrix24 found no bot registered with this Bot Token or OAuth2 application',
		hint: BOT_TOKEN_HINT,
	},
	// The trigger's registration of its bot (imbot.v2.Bot.register and .update).
	BOT_CODE_ALREADY_TAKEN: {
		status: 400,
		reason: () =>
			"Bitrix24 already has a bot with this Bot Code under another bot token: the credential's webhook code or Bot Token changed since the bot was registered, or another application uses the code",
		hint: "The trigger's bot token derives from the credential's webhook code unless the credential sets a Bot Token: after the webhook code was regenerated (or the Bot Token changed), the old bot can no longer be reached with it. Put the credential's Bot Token (the one the bot was registered with) back, or give the trigger a new Bot Code and delete the old bot in Bitrix24 (Applications > Chat bots). Another application's bot with this code: pick another Bot Code.",
	},
	BOT_REGISTER_FAILED: {
		status: 400,
		reason: () => 'Bitrix24 could not register the bot',
		hint: 'The bot token may already belong to another bot of the portal: set another Bot Token in the credential, or leave it empty so the trigger derives one.',
	},
	BOT_TOKEN_INVALID_LENGTH: {
		status: 400,
		reason: () => 'Bitrix24 refused the bot token: it is longer than 40 characters',
		hint: "Shorten the credential's Bot Token to at most 40 characters.",
	},
	BOT_INVALID_CALLBACK: {
		status: 400,
		reason: () => "Bitrix24 refused n8n's webhook URL for the bot",
		hint: "Bitrix24 posts events only to public https addresses: set n8n's WEBHOOK_URL to a public https address, or use Polling mode.",
	},
	BOT_WEBHOOK_URL_REQUIRED: {
		status: 400,
		reason: () => 'Bitrix24 got no webhook URL for the bot',
		hint: "Set n8n's WEBHOOK_URL so that n8n knows its public address, or use Polling mode.",
	},
	BOT_LIMIT_EXCEEDED: {
		status: 400,
		reason: () => 'The webhook or application already has 100 bots, the most Bitrix24 allows',
		hint: 'Delete bots you no longer use in Bitrix24 (Applications > Chat bots), or reuse a Bot Code.',
	},
	BOT_INVALID_EVENT_MODE: {
		status: 400,
		reason: () => 'Bitrix24 refused the delivery mode of the bot',
		hint: "The portal's chat bot API is older than imbot.v2 revision 35: update the portal, or contact its administrator.",
	},
	BOT_PROPERTIES_REQUIRED: {
		status: 400,
		reason: () => 'Bitrix24 needs a name for the bot',
		hint: 'Fill in Bot Name.',
	},
	BOT_CODE_REQUIRED: {
		status: 400,
		reason: () => 'Bitrix24 needs a code for the bot',
		hint: 'Fill in Bot Code.',
	},
	BOT_INVALID_TYPE: {
		status: 400,
		reason: () => 'Bitrix24 refused the bot type',
		hint: "The portal's chat bot API does not know open-line bots: update the portal, or contact its administrator.",
	},
	// The trigger's Button Commands (imbot.v2.Command.register).
	COMMAND_REQUIRED: {
		status: 400,
		reason: () => 'Bitrix24 needs the name of the command to register',
		hint: 'Fill in each Button Commands > Name with the command a button sends, e.g. operator (without a slash), or remove the empty entry.',
	},
	COMMAND_NAME_INVALID: {
		status: 400,
		reason: () => 'Bitrix24 refused the name of a command',
		hint: 'A command name is text without spaces, e.g. order_status, the same as the COMMAND of the buttons that send it.',
	},
	COMMAND_TITLE_REQUIRED: {
		status: 400,
		reason: () => 'Bitrix24 needs a title for a command shown in its command list',
		hint: 'Give the command a Description, or leave it empty so the command stays hidden (buttons can still send it).',
	},
	COMMAND_REGISTER_FAILED: {
		status: 400,
		reason: () => 'Bitrix24 could not register a command of the bot',
		hint: 'Activate the workflow again; if it persists, check the bot in Bitrix24 (Applications > Chat bots) or contact the portal administrator.',
	},
	EMPTY_MESSAGE: {
		status: 400,
		reason: () => 'Bitrix24 refused an empty message',
		hint: 'Write the text to send, or add an attachment.',
	},
	ATTACH_ERROR: {
		status: 400,
		delivery: 'not_sent',
		reason: () => 'Bitrix24 could not read the attachment',
		hint: 'Each block is an object with one key (MESSAGE, LINK, USER, GRID, IMAGE, FILE, DELIMITER) and its fields; links start with https://, http:// or /.',
	},
	ATTACH_OVERSIZE: {
		status: 400,
		delivery: 'not_sent',
		reason: () => 'Bitrix24 refused the attachment as too large',
		hint: 'An attachment may take at most 60,000 characters as Bitrix24 stores it: send fewer blocks or shorter texts, or split it over several messages.',
	},
	KEYBOARD_ERROR: {
		status: 400,
		reason: () => 'Bitrix24 could not read the buttons',
		hint: 'Each button needs a text and a value: the text to send, a link (https://... or /path) or a bot command.',
	},
	SENDING_FAILED: {
		status: 400,
		reason: (c) => `Bitrix24 could not post the bot's message to ${chat(c)}`,
		hint: 'The messenger failed to add the message. Check the chat in Bitrix24.',
	},
	CHAT_ID_EMPTY: {
		status: 400,
		reason: () => 'Bitrix24 needs the chat ID of the dialog',
		hint: 'Map the chat ID from the trigger (chatId), e.g. {{ $json.chatId }}.',
	},
	WRONG_CHAT: {
		status: 400,
		reason: (c) =>
			`Bitrix24 did not hand over ${chat(c)}: its dialog is not held by a bot (an operator already has it, or it is not an open channel dialog in progress)`,
		hint: 'Nothing to do if an operator already answers the customer; otherwise check the chat ID.',
	},
	OPERATOR_WRONG: {
		status: 400,
		reason: (c) =>
			`Bitrix24 would not transfer ${chat(c)}${c.transferTo !== undefined ? ` to ${c.transferTo}` : ''}`,
		hint: 'Transfer to an active employee (not a bot) or an existing open channel, while the dialog is in progress.',
	},
	USER_ID_EMPTY: {
		status: 400,
		reason: () => 'Bitrix24 needs the user to transfer the dialog to',
		hint: 'Pick the user in the User field.',
	},
	QUEUE_ID_EMPTY: {
		status: 400,
		reason: () => 'Bitrix24 needs the open channel to transfer the dialog to',
		hint: 'Pick the open channel in the Open Channel field.',
	},
	TRANSFER_ID_EMPTY: {
		status: 400,
		reason: () => 'Bitrix24 needs a user or an open channel to transfer the dialog to',
		hint: 'Choose Transfer To and pick the user or open channel.',
	},
	MISSING_REQUIRED_PARAM: {
		status: 400,
		reason: () => 'Bitrix24 needs a chat ID or a session ID to read the history',
		hint: 'Map the chat ID from the trigger (chatId).',
	},
	INVALID_SESSION_ID: {
		status: 400,
		reason: (c) => `Bitrix24 found no session of ${chat(c)}`,
		hint: 'The chat has no open channel session yet, or the session ID is wrong.',
	},
	WRONG_AUTH_TYPE: {
		status: 403,
		reason: () => 'Bitrix24 does not allow this bot method with this kind of authorization',
		hint: 'Use an inbound webhook or an OAuth2 application (not a browser session).',
	},
	NO_AUTH_FOUND: {
		status: 401,
		refusesEveryCall: true,
		reason: () => 'Bitrix24 found no credentials in the request',
		hint: 'The call reached the portal without a webhook code or access token: reconnect the OAuth2 credential, and if a proxy stands in front of the portal, make it pass the Authorization header on.',
	},
	INVALID_CREDENTIALS: {
		status: 401,
		refusesEveryCall: true,
		reason: () =>
			'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated',
		hint: 'Copy the webhook URL again from Bitrix24 (Developer resources > Other > Inbound webhook): the user ID and the code must both match a webhook that still exists.',
	},
	authorization_error: {
		status: 401,
		refusesEveryCall: true,
		reason: () => "Bitrix24 could not sign in the credential's user",
		hint: 'A webhook or OAuth connection acts as the user who created it; that user is probably dismissed or deactivated. Create the webhook, or connect the OAuth2 credential, as an active user.',
	},
	invalid_token: {
		status: 401,
		refusesEveryCall: true,
		reason: () => 'Bitrix24 did not accept the access token',
		hint: 'Reconnect the Bitrix24 OAuth2 credential.',
	},
	expired_token: {
		status: 401,
		refusesEveryCall: true,
		reason: () => 'The Bitrix24 access token has expired and could not be refreshed',
		hint: 'n8n refreshes the token by itself; if this persists, reconnect the Bitrix24 OAuth2 credential (the refresh token lives 180 days).',
	},
	insufficient_scope: {
		status: 401,
		refusesEveryCall: true,
		reason: (c) =>
			`The Bitrix24 webhook or application lacks the ${c.scope ?? 'imopenlines'} permission`,
		hint: 'Edit the inbound webhook (or the local application) in Bitrix24 and tick the scope named in the error: Open Channels (imopenlines) to send, Users (user) for the Sender list. Then save; an OAuth2 credential must then be connected again, so its token carries the new scope.',
	},
	user_access_error: {
		status: 401,
		refusesEveryCall: true,
		reason: () => 'The Bitrix24 application is not available to this user',
		hint: "In Bitrix24's application settings, give the credential's user access to the application.",
	},
	INVALID_REQUEST: {
		status: 401,
		refusesEveryCall: true,
		reason: () => 'Bitrix24 requires HTTPS for webhook calls',
		hint: 'Use the https:// address of the portal in the webhook URL (an on-premise portal can allow http by defining REST_APAUTH_ALLOW_HTTP).',
	},
	QUERY_LIMIT_EXCEEDED: {
		status: 503,
		// The rate limit is applied before the method runs.
		delivery: 'not_sent',
		reason: () => "Bitrix24 rejected the request: the portal's request rate limit was exceeded",
		hint: "The node paces its requests by the credential's budget and retried several times. If other integrations share the portal, lower Requests per Second in the credential.",
	},
	OPERATION_TIME_LIMIT: {
		status: 429,
		reason: () => 'Bitrix24 paused this method: its time budget for the last 10 minutes is used up',
		hint: 'Wait until the reset time the portal reports (a few minutes) and run again.',
	},
	OVERLOAD_LIMIT: {
		status: 401,
		refusesEveryCall: true,
		delivery: 'not_sent',
		reason: () => "Bitrix24 has blocked the portal's REST API because of overload",
		hint: 'This is a manual block: contact Bitrix24 support to lift it.',
	},
	ERROR_METHOD_NOT_FOUND: {
		status: 404,
		reason: (_c, f) => `Bitrix24 does not know the method ${f.method ?? METHODS.sendMessage}`,
		hint: 'The Open Channels module may be missing or disabled on this portal, or the URL does not point at a Bitrix24 REST endpoint.',
	},
	INTERNAL_SERVER_ERROR: {
		status: 500,
		reason: () => 'Bitrix24 had an internal error',
		hint: ON_PORTAL_SIDE,
	},
	ERROR_UNEXPECTED_ANSWER: {
		status: 500,
		reason: () => 'Bitrix24 returned an unexpected answer',
		hint: ON_PORTAL_SIDE,
	},
	PORTAL_DELETED: {
		status: 403,
		// Answered before any method runs.
		delivery: 'not_sent',
		reason: () => 'The Bitrix24 portal is deleted or its public part is closed',
		hint: 'On an on-premise install, turn off "Temporary closure of the public part of the site" in the Main module settings.',
	},
	ERROR_BATCH_METHOD_NOT_ALLOWED: {
		status: 405,
		reason: () => 'Bitrix24 does not allow this method inside a batch',
		hint: 'Turn off sending in batches.',
	},
	ERROR_BATCH_LENGTH_EXCEEDED: {
		status: 400,
		reason: () => 'The batch sent to Bitrix24 was too long',
		hint: 'Lower the batch size.',
	},
	ERROR_MANIFEST_IS_NOT_AVAILABLE: {
		status: 404,
		reason: () => 'Bitrix24 says the requested manifest is not available',
		hint: 'The URL in the credential does not point at the REST API of a Bitrix24 portal.',
	},
	INVALID_WEBHOOK_URL: {
		delivery: 'not_sent',
		reason: (_c, f) => f.description,
		hint: 'Copy the inbound webhook URL exactly as Bitrix24 shows it, e.g. https://yourcompany.bitrix24.com/rest/1/abc123xyz/',
	},
	INVALID_PORTAL_URL: {
		delivery: 'not_sent',
		reason: (_c, f) => `The OAuth2 credential cannot be used: ${f.description}`,
		hint: 'Open the Bitrix24 OAuth2 credential and enter the address of your portal, e.g. https://yourcompany.bitrix24.com',
	},
	UNEXPECTED_RESPONSE: {
		// An error page, an empty or cut-off body: a proxy can send one after the portal acted.
		delivery: 'unknown',
		reason: (_c, f) =>
			`Bitrix24 answered ${f.method ?? 'the call'} with something that is not a REST response${f.httpStatus !== null ? ` (HTTP ${f.httpStatus})` : ''}`,
		hint: 'A proxy or the portal returned an error page, or an empty or cut-off answer. Check that the portal is up and the credential URL is right.',
	},
	NO_ACTIVE_CHAT: {
		delivery: 'not_sent',
		reason: (c) =>
			`${entity(c).replace(/^./, (first) => first.toUpperCase())} has no open channel chat with a dialog in progress`,
		hint: 'Only chats an operator has taken accept messages. Send once the customer has written and an operator took the dialog, or pick a chat by ID.',
	},
	CREDENTIAL_ERROR: {
		delivery: 'not_sent',
		refusesEveryCall: true,
		reason: (_c, f) => `n8n could not use the Bitrix24 credential: ${f.description}`,
		hint: 'Open the credential in n8n and reconnect it (OAuth2) or paste the webhook URL again.',
	},
	CONNECTION_FAILED: {
		delivery: 'not_sent',
		reason: (_c, f) => `Could not reach Bitrix24: ${f.description}`,
		hint: "Check the portal address and that n8n can reach it over the network. An on-premise portal with a certificate of its own certificate authority needs that authority trusted by n8n (NODE_EXTRA_CA_CERTS) or the node's Request Options > Ignore SSL Issues.",
	},
	DELIVERY_UNKNOWN: {
		delivery: 'unknown',
		reason: (c, f) =>
			postsMessage(f)
				? `It is unknown whether the message reached ${chat(c)}: ${f.description}`
				: `Bitrix24 did not answer ${f.method ?? 'the call'}: ${f.description}`,
		hint: 'The node does not resend by itself so that no customer gets a message twice.',
	},
	EXECUTION_STOPPED: {
		delivery: 'not_sent',
		reason: () => 'n8n stopped the execution (cancelled or timed out) before this message was sent',
		hint: 'Run the workflow again for the items that were not sent.',
	},
};

const UNKNOWN: ErrorExplanation = {
	reason: (_c, f) => `Bitrix24 returned an error: ${f.description || 'no description'}`,
	hint: 'See the code in Bitrix24 REST documentation.',
};

/** The code's explanation, in its variant for the HTTP status when it has one. */
function explanationOf(
	code: string,
	httpStatus: number | null,
): Omit<ErrorExplanation, 'atStatus'> {
	const known = Object.prototype.hasOwnProperty.call(ERRORS, code) ? ERRORS[code] : UNKNOWN;
	return (httpStatus !== null && known.atStatus?.[httpStatus]) || known;
}

/** One sentence a person understands, ending with the Bitrix24 code. */
export function describeFailure(failure: Bitrix24Failure, context: MessageTarget): string {
	return `${explanationOf(failure.code, failure.httpStatus).reason(context, failure)} (${failure.code})`;
}

/** How to fix a failure outside an item (the trigger's activation and polls): no delivery verdict. */
export const fixFor = (failure: Bitrix24Failure): string =>
	explanationOf(failure.code, failure.httpStatus).hint;

/** What the item's delivery verdict means for the user. */
const DELIVERY_HINTS: Record<Delivery, string> = {
	not_sent: 'Nothing was posted: it is safe to send this item again.',
	unknown: 'Bitrix24 may have posted the message: check the chat before sending it again.',
};

/** How to fix it, and whether sending again is safe. */
export function hintFor(failure: Bitrix24Failure): string {
	return `${explanationOf(failure.code, failure.httpStatus).hint} ${DELIVERY_HINTS[failure.delivery]}`;
}

function deliveryOf(code: string, httpStatus: number | null): Delivery {
	const known = explanationOf(code, httpStatus).delivery;
	if (known !== undefined) return known;
	// A server error or no answer can come after the method ran; a refusal comes before.
	return httpStatus === null || httpStatus >= 500 ? 'unknown' : 'not_sent';
}

/** Whether every later call of the run would fail the same way (a refused credential or portal). */
export function refusesEveryCall(failure: Bitrix24Failure): boolean {
	return explanationOf(failure.code, failure.httpStatus).refusesEveryCall === true;
}

/** Whether the failures after this one in the same batch call may carry its code instead of their own. */
export function leaksInBatch(failure: Bitrix24Failure): boolean {
	return explanationOf(failure.code, failure.httpStatus).leaksInBatch === true;
}

/** A failure of one command inside a batch, given the HTTP status Bitrix24 answers the code with alone. */
export function batchCommandFailure(
	code: string,
	description: string,
	method: string,
	argument?: string,
): Bitrix24Failure {
	const known = Object.prototype.hasOwnProperty.call(ERRORS, code) ? ERRORS[code] : undefined;
	const status = known?.statusOfMethod?.[method] ?? known?.status;
	return new Bitrix24Failure(code, description, status ?? 200, argument, method);
}

/** Codes the node explains; exported so tests can prove every one has its own wording. */
export const EXPLAINED_CODES = Object.keys(ERRORS);
