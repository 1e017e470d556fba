/**
 * imbot.v2 bots and their events, as ../shared/docs/bitrix24-bots.md describes them (§2 lifecycle, §3 lines, §4
 * events), with the emulator choices of its §7 (each marked "Q<n>" below):
 *
 * - Bot.register/update/unregister/get/list: webhook auth needs `botToken` (register: `fields.botToken`, or top
 *   level, Q1); each token is its own application, an OAuth app owns all its bots.
 * - Events: webhook mode POSTs one form-encoded body per event and bot (PHP http_build_query: strings, "1"/"0",
 *   null as "", empty containers left out, Q2-Q4), once, 10 s timeout, no retry, in order per bot (Q11); fetch
 *   mode queues for Event.get (24 h retention, portal-wide IDs, nothing queued in webhook mode, Q10).
 * - A customer (or operator) message in an open-line chat reaches every registered bot that is a member and not
 *   its author (Q8); the line's welcome bot joins the chat first, with ONIMBOTV2JOINCHAT, user = the customer (Q18).
 * - imopenlines.config.list.get / get / update read and write the lines' welcome-bot settings (§3).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import type {
	BotType,
	DialogMessage,
	EventMode,
	LineDialog,
	OpenLine,
	QueuedEvent,
	RegisteredBot,
	BotEventType,
} from './botWorld';
import { MEMBER_ID } from './constants';
import type { CallContext, MethodOutcome } from './context';
import { bitrixDate, RestError } from './envelope';
import {
	isRecord,
	parseFlag,
	phpTruthy,
	parseInteger,
	scalarString,
	type ParamRecord,
	type ParamValue,
} from './params';
import { findBot, findUser, type OpenLineChat, type World } from './world';

const BOT_TYPES: readonly BotType[] = ['bot', 'supervisor', 'personal', 'openline'];
const EVENT_MODES: readonly EventMode[] = ['fetch', 'webhook'];
const MAX_BOT_TOKEN_LENGTH = 40;
const MAX_BOTS_PER_APPLICATION = 100;
/** Q10: the fetch queue keeps events a day. */
const QUEUE_RETENTION_MS = 24 * 3600_000;
/** Q11: one POST per event, given up after 10 s. */
const DELIVERY_TIMEOUT_MS = 10_000;
const COLORS: Readonly<Record<string, string>> = {
	red: '#df532d',
	green: '#29ad49',
	mint: '#4ba984',
	lightBlue: '#4ba5c3',
	darkBlue: '#4886ec',
	purple: '#9f7fff',
};

/**
 * Every imbot.v2 code is 400: the controllers' Engine errors carry no status and RestManager answers
 * STATUS_WRONG_REQUEST (rest/lib/engine/restmanager.php::createExceptionFromErrors; §7 Q14 suggested 403 for two).
 */
export const botError = (code: string, description: string): RestError =>
	new RestError(400, code, description);

// ---------------------------------------------------------------------------------------------- who calls

/** The calling application: the bot token under an inbound webhook, the OAuth app's client_id otherwise. */
function ownerOf(ctx: CallContext, botToken: ParamValue | undefined): string {
	if (ctx.authKind === 'oauth') return `app:${ctx.clientId ?? ''}`;
	const token = scalarString(botToken)?.trim() ?? '';
	if (token === '')
		throw botError(
			'BOT_TOKEN_NOT_SPECIFIED',
			'Bot token not specified (botToken is required for webhook auth)',
		);
	return `token:${token}`;
}

/** The application key of a webhook call's CLIENT_ID / an OAuth call (imopenlines' resolveClientId), as `owner`. */
export const applicationOf = (ctx: CallContext, clientId: string): string =>
	ctx.authKind === 'oauth' ? `app:${ctx.clientId ?? ''}` : `token:${clientId}`;

/** Im\Bot::getBotIdByAppId: the first bot the application registered. */
export const botOwnedBy = (world: World, owner: string): RegisteredBot | undefined =>
	world.imbot.registered.find((b) => b.owner === owner);

const botById = findBot;

/** The first of the names that is set and not "" (the Engine controllers read either spelling). */
function paramOf(params: ParamRecord, names: readonly string[]): ParamValue | undefined {
	return names.map((name) => params[name]).find((v) => v !== undefined && scalarString(v) !== '');
}

/**
 * The bot a call names by `botId`, owned by the caller (BOT_ID_REQUIRED, BOT_NOT_FOUND, BOT_OWNERSHIP_ERROR, in the
 * order of the change-log's common errors). Exported for the other bot methods (botSessions.ts).
 */
export function requireOwnedBot(params: ParamRecord, ctx: CallContext): RegisteredBot {
	const owner = ownerOf(ctx, paramOf(params, ['botToken', 'BOT_TOKEN', 'clientId', 'CLIENT_ID']));
	const botId = parseInteger(paramOf(params, ['botId', 'BOT_ID']));
	if (botId === undefined || botId <= 0) throw botError('BOT_ID_REQUIRED', 'Bot ID is required');
	const bot = botById(ctx.world, botId);
	if (!bot) throw botError('BOT_NOT_FOUND', 'Bot not found');
	if (bot.owner !== owner)
		throw botError('BOT_OWNERSHIP_ERROR', 'The bot belongs to another application');
	return bot;
}

// ------------------------------------------------------------------------------------------ object shapes

function botObject(bot: RegisteredBot, extended: boolean): Record<string, unknown> {
	const brief = {
		id: bot.id,
		code: bot.code,
		type: bot.type,
		isHidden: bot.isHidden,
		isSupportOpenline: bot.isSupportOpenline,
		isReactionsEnabled: bot.isReactionsEnabled,
		backgroundId: bot.backgroundId,
		language: bot.language,
	};
	if (!extended) return brief;
	return {
		...brief,
		moduleId: 'rest',
		eventMode: bot.eventMode,
		countMessage: bot.countMessage,
		countCommand: bot.countCommand,
		countChat: 0,
		countUser: 0,
	};
}

const botUser = (bot: RegisteredBot): Record<string, unknown> => ({
	id: bot.id,
	active: true,
	name: [bot.properties.name, bot.properties.lastName].filter((p) => p !== '').join(' '),
	bot: true,
	type: 'bot',
});

/** The event's `user`: a customer (Q7: connector user), an employee, or a bot. */
function userObject(world: World, id: number, dialog?: LineDialog): Record<string, unknown> {
	const base = {
		id,
		active: true,
		color: '#df532d',
		avatar: '',
		gender: 'M',
		birthday: '',
		status: 'online',
		idle: false,
		lastActivityDate: false,
		mobileLastDate: false,
		desktopLastDate: false,
		absent: false,
		phones: false,
		website: '',
		email: '',
	};
	if (dialog && dialog.customerId === id) {
		return {
			...base,
			name: dialog.customerName,
			firstName: dialog.customerName,
			lastName: '',
			workPosition: '',
			extranet: true,
			bot: false,
			connector: true,
			externalAuthId: 'imconnector',
			departments: [],
			type: 'extranet',
		};
	}
	const bot = botById(world, id);
	if (bot) {
		const name = bot.properties.name;
		return {
			...base,
			name,
			firstName: name,
			lastName: '',
			workPosition: '',
			extranet: false,
			bot: true,
			connector: false,
			externalAuthId: 'bot',
			departments: [1],
			type: 'bot',
		};
	}
	const employee = findUser(world, id);
	return {
		...base,
		active: employee?.active ?? false,
		name: employee ? `${employee.name} ${employee.lastName}` : '',
		firstName: employee?.name ?? '',
		lastName: employee?.lastName ?? '',
		workPosition: employee?.workPosition ?? '',
		extranet: false,
		bot: false,
		connector: false,
		externalAuthId: 'default',
		departments: [1],
		type: 'employee',
		email: employee?.email ?? '',
	};
}

const CRM_CODES = { lead: 'LEAD', deal: 'DEAL', contact: 'CONTACT', company: 'COMPANY' } as const;

/** §4.4's strings: entityId `connector|line|connector chat|connector user`, entityData1 (session), entityData2 (CRM). */
export function chatEntityFields(
	chat: OpenLineChat,
	dialog: LineDialog,
	at: number,
): { entityId: string; entityData1: string; entityData2: string } {
	const code = chat.entityType === null ? undefined : CRM_CODES[chat.entityType];
	const bindings = (['LEAD', 'COMPANY', 'CONTACT', 'DEAL'] as const)
		.map((type) => `${type}|${type === code ? chat.entityId : 0}`)
		.join('|');
	const crm = code === undefined ? 'N|NONE|0' : `Y|${code}|${chat.entityId}`;
	return {
		entityId: `${chat.connectorId}|${dialog.lineId}|${dialog.connectorChatId}|${dialog.customerId}`,
		entityData1: `${crm}|N|N|${dialog.sessionId}|${Math.floor(at / 1000)}|0|0|0`,
		entityData2: code === undefined ? '' : bindings,
	};
}

function chatObject(world: World, chat: OpenLineChat, dialog: LineDialog, at: number) {
	const line = world.imbot.lines.find((l) => l.id === dialog.lineId);
	const entity = chatEntityFields(chat, dialog, at);
	return {
		id: chat.id,
		dialogId: `chat${chat.id}`,
		name: `${dialog.customerName} - ${line?.name ?? 'Open channel'}`,
		// Q6: open-line chats are "lines" / "L".
		type: 'lines',
		messageType: 'L',
		owner: 0,
		color: '#58cc47',
		avatar: '',
		description: '',
		extranet: false,
		containsCollaber: false,
		entityType: 'LINES',
		...entity,
		entityData3: 'N',
		entityLink: { type: 'LINES', url: '', id: entity.entityId },
		diskFolderId: null,
		permissions: {},
		parentChatId: 0,
		parentMessageId: 0,
		isNew: false,
		textFieldEnabled: 'Y',
		backgroundId: null,
	};
}

// -------------------------------------------------------------------------------------- event delivery

/** PHP http_build_query of the event (Q3/Q4): every scalar a string, true "1", false "0", null "", empty containers gone. */
export function phpBuildQuery(value: Record<string, unknown>): string {
	const pairs: string[] = [];
	const walk = (prefix: string, node: unknown): void => {
		if (node === undefined) return;
		if (Array.isArray(node) || isRecord(node as ParamValue)) {
			for (const [key, child] of Object.entries(node as object))
				walk(prefix === '' ? key : `${prefix}[${key}]`, child);
			return;
		}
		const text = node === null ? '' : typeof node === 'boolean' ? (node ? '1' : '0') : String(node);
		pairs.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(text).replace(/%20/g, '+')}`);
	};
	walk('', value);
	return pairs.join('&');
}

/** The portal side the events describe: host, REST address. */
export interface PortalIdentity {
	baseUrl: () => string;
	now: () => number;
}

/**
 * Hands bot events to their bots: a POST to a webhook-mode bot's URL (recorded in world.imbot.deliveries), the
 * queue for a fetch-mode bot. The chats' messages come through here too, so every posting path raises the events.
 */
export class BotPlatform {
	private readonly inFlight = new Set<Promise<void>>();
	/** Per bot, the last delivery under way: the next one waits for it (Q11: in order). */
	private readonly chains = new Map<number, Promise<void>>();
	private readonly requests = new Set<http.ClientRequest>();

	constructor(
		private readonly world: () => World,
		private readonly portal: PortalIdentity,
	) {}

	/** auth of an event: the portal and the bot's application (Q19: no OAuth tokens for token bots). */
	private authOf(bot: RegisteredBot): Record<string, string> {
		const base = this.portal.baseUrl();
		return {
			domain: new URL(base).host,
			client_endpoint: `${base}/rest/`,
			server_endpoint: 'https://oauth.bitrix.info/rest/',
			member_id: MEMBER_ID,
			application_token: bot.applicationToken,
		};
	}

	/** One event for one bot, in the bot's current mode. */
	emit(bot: RegisteredBot, type: BotEventType, data: Record<string, unknown>): number {
		const { imbot } = this.world();
		const eventId = imbot.nextEventId++;
		const at = this.portal.now();
		if (bot.eventMode === 'fetch') {
			imbot.queue = imbot.queue.filter((e) => at - e.at < QUEUE_RETENTION_MS);
			imbot.queue.push({
				eventId,
				botId: bot.id,
				type,
				at,
				data: { bot: botObject(bot, true), ...data },
			});
			return eventId;
		}
		const auth = this.authOf(bot);
		const body = phpBuildQuery({
			event: type,
			data: { bot: { id: bot.id, code: bot.code, auth }, ...data },
			ts: String(Math.floor(at / 1000)),
			auth,
		});
		const delivery = { eventId, botId: bot.id, type, url: bot.webhookUrl, body, status: null };
		imbot.deliveries.push(delivery);
		const previous = this.chains.get(bot.id) ?? Promise.resolve();
		const sent = previous.then(async () => {
			Object.assign(delivery, { postedAt: this.portal.now() });
			const outcome = await this.post(delivery.url, body);
			Object.assign(delivery, outcome, { answeredAt: this.portal.now() });
		});
		this.chains.set(bot.id, sent);
		this.inFlight.add(sent);
		void sent.finally(() => this.inFlight.delete(sent));
		return eventId;
	}

	/** Every delivery started so far has been answered or given up. */
	async settled(): Promise<void> {
		while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
	}

	/** Stops what is under way (the emulator closes). */
	abort(): void {
		for (const request of this.requests) request.destroy();
		this.requests.clear();
	}

	private post(url: string, body: string): Promise<{ status: number | null; error?: string }> {
		return new Promise((resolve) => {
			let target: URL;
			try {
				target = new URL(url);
			} catch {
				resolve({ status: null, error: 'invalid URL' });
				return;
			}
			const client = target.protocol === 'https:' ? https : http;
			const request = client.request(
				target,
				{
					method: 'POST',
					headers: {
						'content-type': 'application/x-www-form-urlencoded',
						'content-length': Buffer.byteLength(body),
					},
					timeout: DELIVERY_TIMEOUT_MS,
				},
				(response) => {
					response.resume();
					response.on('end', () => resolve({ status: response.statusCode ?? null }));
				},
			);
			this.requests.add(request);
			request.on('close', () => this.requests.delete(request));
			request.on('timeout', () => request.destroy(new Error('timeout')));
			request.on('error', (error) => resolve({ status: null, error: error.message }));
			request.end(body);
		});
	}

	/**
	 * A message posted in an open-line chat (by the customer, an operator or a bot, through the REST API or the
	 * control API): it joins the dialog's messages in the current session and reaches every registered bot of the
	 * chat other than its author (Q8).
	 */
	messagePosted(
		chat: OpenLineChat,
		authorId: number,
		messageId: number,
		text: string,
		extra: Pick<DialogMessage, 'keyboard' | 'attach'> = {},
	): number[] {
		const world = this.world();
		const at = this.portal.now();
		const dialog = dialogOf(world, chat.id);
		if (!dialog) return [];
		const { sessionId } = dialog;
		dialog.messages.push({ id: messageId, sessionId, authorId, text, at, system: false, ...extra });
		return this.botsOf(chat)
			.filter((bot) => bot.id !== authorId)
			.map((bot) =>
				this.emit(bot, 'ONIMBOTV2MESSAGEADD', {
					message: messageObject(messageId, chat.id, authorId, text, at, extra.attach),
					chat: chatObject(world, chat, dialog, at),
					user: userObject(world, authorId, dialog),
					language: bot.language,
				}),
			);
	}

	/** ONIMBOTV2MESSAGEUPDATE for an edited message of an open-line chat. */
	messageEdited(messageId: number, text: string): number[] {
		const world = this.world();
		const dialog = world.imbot.dialogs.find((d) => d.messages.some((m) => m.id === messageId));
		const message = dialog?.messages.find((m) => m.id === messageId);
		if (!dialog || !message) throw new Error(`No chat message ${messageId}`);
		message.text = text;
		const chat = world.chats.find((c) => c.id === dialog.chatId);
		if (!chat) return [];
		const at = this.portal.now();
		return this.botsOf(chat)
			.filter((bot) => bot.id !== message.authorId)
			.map((bot) =>
				this.emit(bot, 'ONIMBOTV2MESSAGEUPDATE', {
					message: messageObject(message.id, chat.id, message.authorId, text, message.at),
					chat: chatObject(world, chat, dialog, at),
					user: userObject(world, message.authorId, dialog),
					language: bot.language,
				}),
			);
	}

	/** A customer writes: a closed dialog opens a new session, the line's welcome bot joins, the message is posted. */
	customerWrites(
		chatId: number,
		text: string,
		attach?: ParamRecord,
	): { messageId: number; eventIds: number[] } {
		const world = this.world();
		const chat = world.chats.find((c) => c.id === chatId);
		const dialog = dialogOf(world, chatId);
		if (!chat || !dialog) throw new Error(`Chat ${chatId} is not an open-line chat`);
		const eventIds: number[] = [];
		if (!sessionOpen(chat)) {
			dialog.sessionId = world.imbot.nextSessionId++;
			dialog.sessionIds.push(dialog.sessionId);
			dialog.holder = undefined;
			chat.status = 'new';
		}
		const joined = this.welcomeBotJoins(chat, dialog);
		if (joined !== undefined) eventIds.push(joined);
		const messageId = world.nextMessageId++;
		chat.lastActivityAt = this.portal.now();
		eventIds.push(
			...this.messagePosted(chat, dialog.customerId, messageId, text, attach ? { attach } : {}),
		);
		return { messageId, eventIds };
	}

	/**
	 * The customer presses a keyboard button of a message in an open-line chat (the client calls im.message.command).
	 * As the server code does it (CIMMessenger::ExecCommand, Im\Command::onCommandAdd): no message is posted; the
	 * press reads as the text `/COMMAND COMMAND_PARAMS` of the customer and reaches, with ONIMBOTV2COMMANDADD
	 * (context `keyboard`), every command registered under that name (any bot's, as findCommands matches them) whose
	 * bot supports open channels, that extranet users may use (the customer is one, Q7), and that is common or whose
	 * bot is in the chat. No such command: nothing happens (Q20: the press gives no event and no error).
	 * Q21 (undocumented): the event's `message` is the pressed message's ID with the customer as author and the
	 * command's text, as v1's ONIMCOMMANDADD gave it (MESSAGE_ID, MESSAGE "/cmd params", AUTHOR_ID).
	 */
	customerPresses(chatId: number, messageId: number, buttonText: string): { eventIds: number[] } {
		const world = this.world();
		const found = lineChatOf(world, chatId);
		if (!found) throw new Error(`Chat ${chatId} is not an open-line chat`);
		const { chat, dialog } = found;
		const message = dialog.messages.find((m) => m.id === messageId);
		if (!message) throw new Error(`Chat ${chatId} has no message ${messageId}`);
		const button = (message.keyboard ?? []).find(
			(b): b is ParamRecord =>
				isRecord(b) && scalarString(b.TEXT) === buttonText && phpTruthy(b.COMMAND),
		);
		if (!button) throw new Error(`Message ${messageId} has no command button "${buttonText}"`);
		const name = (scalarString(button.COMMAND) ?? '').replace(/^\//, '');
		const params = scalarString(button.COMMAND_PARAMS) ?? '';
		const at = this.portal.now();
		const presser = dialog.customerId;
		const eventIds = world.imbot.commands
			.filter((command) => command.command === name)
			.flatMap((command) => {
				const bot = botById(world, command.botId);
				if (!bot?.isSupportOpenline || !command.extranetSupport) return [];
				if (!command.common && !chat.members.includes(bot.id)) return [];
				bot.countCommand += 1;
				return [
					this.emit(bot, 'ONIMBOTV2COMMANDADD', {
						command: { id: command.id, command: `/${name}`, params, context: 'keyboard' },
						message: messageObject(messageId, chat.id, presser, `/${name} ${params}`.trim(), at),
						chat: chatObject(world, chat, dialog, at),
						user: userObject(world, presser, dialog),
						language: bot.language,
					}),
				];
			});
		return { eventIds };
	}

	/**
	 * §3.4 step 2: the line's welcome bot takes a session nobody took yet (always, or on the customer's first
	 * session), joining the chat with ONIMBOTV2JOINCHAT; a bot still in the chat from a finished session takes it
	 * without joining again.
	 */
	private welcomeBotJoins(chat: OpenLineChat, dialog: LineDialog): number | undefined {
		const world = this.world();
		const line = world.imbot.lines.find((l) => l.id === dialog.lineId);
		if (!line?.active || !line.welcomeBotEnable || dialog.holder !== undefined) return undefined;
		const bot = botById(world, line.welcomeBotId);
		if (!bot) return undefined;
		if (line.welcomeBotJoin === 'first' && dialog.sessionIds.length > 1) return undefined;
		dialog.holder = bot.id;
		if (chat.members.includes(bot.id)) return undefined;
		chat.members.push(bot.id);
		const at = this.portal.now();
		return this.emit(bot, 'ONIMBOTV2JOINCHAT', {
			dialogId: `chat${chat.id}`,
			chat: chatObject(world, chat, dialog, at),
			user: userObject(world, dialog.customerId, dialog),
			language: bot.language,
		});
	}

	private botsOf(chat: OpenLineChat): RegisteredBot[] {
		return this.world().imbot.registered.filter((bot) => chat.members.includes(bot.id));
	}
}

const messageObject = (
	id: number,
	chatId: number,
	authorId: number,
	text: string,
	at: number,
	attach?: ParamRecord,
) => ({
	id,
	chatId,
	authorId,
	date: bitrixDate(at),
	text,
	isSystem: false,
	uuid: '',
	forward: null,
	params: attach === undefined ? {} : { ATTACH: [attach] },
	viewedByOthers: false,
});

export const dialogOf = (world: World, chatId: number): LineDialog | undefined =>
	world.imbot.dialogs.find((d) => d.chatId === chatId);

/** The chat's current session is open (a finished or closing one opens a new session on the next message). */
export const sessionOpen = (chat: OpenLineChat): boolean =>
	chat.status !== 'finished' && chat.status !== 'closing';

/** An open-line chat (members, session status) with its dialog (sessions, holder, messages), or undefined. */
export function lineChatOf(
	world: World,
	chatId: number,
): { chat: OpenLineChat; dialog: LineDialog } | undefined {
	const chat = world.chats.find((c) => c.id === chatId);
	const dialog = dialogOf(world, chatId);
	return chat && dialog ? { chat, dialog } : undefined;
}

/** One open-line chat as tests and the demo read it: its dialog, with the chat's members and session state. */
export function lineChatState(
	world: World,
	chatId: number,
): (LineDialog & { members: number[]; sessionOpen: boolean }) | undefined {
	const found = lineChatOf(world, chatId);
	return found
		? { ...found.dialog, members: found.chat.members, sessionOpen: sessionOpen(found.chat) }
		: undefined;
}

// ----------------------------------------------------------------------------------- imbot.v2.Bot.*

const fieldsOf = (params: ParamRecord): ParamRecord =>
	isRecord(params.fields) ? params.fields : {};

/** Checks shared by register and update for the event mode and URL. */
function eventModeOf(fields: ParamRecord, current: EventMode): EventMode {
	if (fields.eventMode === undefined) return current;
	const mode = scalarString(fields.eventMode) as EventMode;
	if (!EVENT_MODES.includes(mode))
		throw botError('BOT_INVALID_EVENT_MODE', 'Event mode must be fetch or webhook');
	return mode;
}

function webhookUrlOf(fields: ParamRecord, mode: EventMode, current: string): string {
	const url = fields.webhookUrl === undefined ? current : (scalarString(fields.webhookUrl) ?? '');
	if (mode !== 'webhook') return url;
	if (url.trim() === '') throw botError('BOT_WEBHOOK_URL_REQUIRED', 'Webhook URL is required');
	if (!/^https?:\/\/[^\s]+$/i.test(url))
		throw botError('BOT_INVALID_CALLBACK', 'Invalid webhook URL');
	return url;
}

function propertiesOf(value: ParamValue | undefined, current?: RegisteredBot['properties']) {
	const props = isRecord(value ?? null) ? (value as ParamRecord) : {};
	const text = (key: string, fallback: string) => scalarString(props[key]) ?? fallback;
	const color = scalarString(props.color);
	return {
		name: text('name', current?.name ?? ''),
		lastName: text('lastName', current?.lastName ?? ''),
		workPosition: text('workPosition', current?.workPosition ?? ''),
		// An unknown color is ignored (bot-update.md).
		color: color !== undefined && COLORS[color] ? color : (current?.color ?? 'mint'),
		gender: text('gender', current?.gender ?? 'M'),
	};
}

const flag = (value: ParamValue | undefined, fallback: boolean): boolean =>
	parseFlag(value) ?? fallback;

const newApplicationToken = (): string => randomBytes(16).toString('hex');

const registerResult = (world: World, bot: RegisteredBot): MethodOutcome => ({
	result: {
		bot: botObject(bot, true),
		users: [{ ...userObject(world, bot.id), ...botUser(bot) }],
	},
});

/** Bot.register: idempotent by code within the calling application (Q17 for the token rules). */
function register(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const fields = fieldsOf(params);
	const token = ctx.authKind === 'webhook' ? (fields.botToken ?? params.botToken) : undefined;
	const owner = ownerOf(ctx, token);
	const botToken = ctx.authKind === 'webhook' ? scalarString(token)?.trim() : undefined;
	if (botToken !== undefined && botToken.length > MAX_BOT_TOKEN_LENGTH)
		throw botError('BOT_TOKEN_INVALID_LENGTH', 'Bot token must be at most 40 characters');
	const code = scalarString(fields.code)?.trim() ?? '';
	if (code === '') throw botError('BOT_CODE_REQUIRED', 'Bot code is required');
	const { imbot } = ctx.world;
	const sameCode = imbot.registered.find((b) => b.code === code);
	if (sameCode && sameCode.owner === owner) return registerResult(ctx.world, sameCode);
	if (sameCode) throw botError('BOT_CODE_ALREADY_TAKEN', 'Bot code is already taken');
	if (botToken !== undefined && imbot.registered.some((b) => b.botToken === botToken))
		throw botError('BOT_REGISTER_FAILED', 'Bot registration failed');
	const properties = propertiesOf(fields.properties);
	if (properties.name === '')
		throw botError('BOT_PROPERTIES_REQUIRED', 'Bot properties with a name are required');
	const type = (scalarString(fields.type) ?? 'bot') as BotType;
	if (!BOT_TYPES.includes(type)) throw botError('BOT_INVALID_TYPE', 'Invalid bot type');
	const eventMode = eventModeOf(fields, 'fetch');
	const webhookUrl = webhookUrlOf(fields, eventMode, '');
	if (imbot.registered.filter((b) => b.owner === owner).length >= MAX_BOTS_PER_APPLICATION)
		throw botError('BOT_LIMIT_EXCEEDED', 'The application already has 100 bots');
	const bot: RegisteredBot = {
		id: imbot.nextBotId++,
		code,
		type,
		owner,
		botToken,
		applicationToken: newApplicationToken(),
		eventMode,
		webhookUrl,
		isHidden: flag(fields.isHidden, false),
		isReactionsEnabled: flag(fields.isReactionsEnabled, true),
		// Q17: an openline bot always supports open channels.
		isSupportOpenline: type === 'openline' || flag(fields.isSupportOpenline, false),
		backgroundId: scalarString(fields.backgroundId) ?? null,
		language: 'en',
		properties,
		countMessage: 0,
		countCommand: 0,
	};
	imbot.registered.push(bot);
	return registerResult(ctx.world, bot);
}

/** Bot.update: owner only; a new token rotates the application token (the old one is refused from now on). */
function update(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const bot = requireOwnedBot(params, ctx);
	const fields = fieldsOf(params);
	const eventMode = eventModeOf(fields, bot.eventMode);
	const webhookUrl = webhookUrlOf(fields, eventMode, bot.webhookUrl);
	const newToken = scalarString(fields.botToken)?.trim() ?? '';
	if (ctx.authKind === 'webhook' && newToken !== '') {
		if (newToken.length > MAX_BOT_TOKEN_LENGTH)
			throw botError('BOT_TOKEN_INVALID_LENGTH', 'Bot token must be at most 40 characters');
		if (ctx.world.imbot.registered.some((b) => b.id !== bot.id && b.botToken === newToken))
			throw botError('BOT_TOKEN_ROTATION_FAILED', 'Bot token rotation failed');
		bot.botToken = newToken;
		bot.owner = `token:${newToken}`;
		bot.applicationToken = newApplicationToken();
	}
	bot.eventMode = eventMode;
	bot.webhookUrl = webhookUrl;
	if (fields.properties !== undefined)
		bot.properties = propertiesOf(fields.properties, bot.properties);
	bot.isHidden = flag(fields.isHidden, bot.isHidden);
	bot.isReactionsEnabled = flag(fields.isReactionsEnabled, bot.isReactionsEnabled);
	bot.isSupportOpenline = flag(fields.isSupportOpenline, bot.isSupportOpenline);
	if (fields.backgroundId !== undefined)
		bot.backgroundId = scalarString(fields.backgroundId) ?? null;
	return registerResult(ctx.world, bot);
}

/** Bot.unregister: ONIMBOTV2DELETE first (Q12), then the bot leaves its chats and its queue is dropped. */
function unregister(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const bot = requireOwnedBot(params, ctx);
	const { world } = ctx;
	if (bot.eventMode === 'webhook') ctx.bots.emit(bot, 'ONIMBOTV2DELETE', {});
	world.imbot.registered = world.imbot.registered.filter((b) => b.id !== bot.id);
	world.imbot.queue = world.imbot.queue.filter((e) => e.botId !== bot.id);
	world.imbot.commands = world.imbot.commands.filter((c) => c.botId !== bot.id);
	for (const chat of world.chats) chat.members = chat.members.filter((m) => m !== bot.id);
	for (const dialog of world.imbot.dialogs) if (dialog.holder === bot.id) dialog.holder = undefined;
	return { result: { result: true } };
}

/** Bot.get by botId or code (the caller's bots): extended for the owner, brief for others. */
function get(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const owner = ownerOf(ctx, params.botToken);
	const botId = parseInteger(params.botId);
	const code = scalarString(params.code)?.trim();
	if ((botId === undefined || botId <= 0) && !code)
		throw botError('PARAMS_REQUIRED', 'botId or code is required');
	const bot =
		botId !== undefined && botId > 0
			? botById(ctx.world, botId)
			: ctx.world.imbot.registered.find((b) => b.code === code && b.owner === owner);
	if (!bot) throw botError('BOT_NOT_FOUND', 'Bot not found');
	return { result: { bot: botObject(bot, bot.owner === owner), users: [botUser(bot)] } };
}

/** Bot.list: the calling application's bots, extended, paged by limit/offset. */
function list(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const owner = ownerOf(ctx, params.botToken);
	const filter = isRecord(params.filter ?? null) ? (params.filter as ParamRecord) : {};
	const type = scalarString(filter.type);
	const limit = Math.max(1, parseInteger(params.limit) ?? 50);
	const offset = Math.max(0, parseInteger(params.offset) ?? 0);
	const bots = ctx.world.imbot.registered.filter(
		(b) => b.owner === owner && (type === undefined || b.type === type),
	);
	const page = bots.slice(offset, offset + limit);
	return {
		result: {
			bots: page.map((b) => botObject(b, true)),
			users: page.map(botUser),
			hasNextPage: offset + limit < bots.length,
		},
	};
}

/**
 * Event.get: `offset` acknowledges (drops) the bot's events below it, then up to `limit` (1..1000, default 100) come
 * back; nextOffset is the last one's ID + 1, or the offset sent (0 without one) when none came (Q10).
 */
function eventGet(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const bot = requireOwnedBot(params, ctx);
	const { imbot } = ctx.world;
	const now = ctx.now();
	const offset = parseInteger(params.offset);
	const limit = Math.min(1000, Math.max(1, parseInteger(params.limit) ?? 100));
	imbot.queue = imbot.queue.filter(
		(e) =>
			now - e.at < QUEUE_RETENTION_MS &&
			(e.botId !== bot.id || offset === undefined || e.eventId >= offset),
	);
	const pending = imbot.queue.filter((e) => e.botId === bot.id);
	const events = pending.slice(0, limit);
	const last = events.at(-1);
	return {
		result: {
			events: events.map((e: QueuedEvent) => ({
				eventId: e.eventId,
				type: e.type,
				date: bitrixDate(e.at),
				data: e.data,
			})),
			nextOffset: last ? last.eventId + 1 : (offset ?? 0),
			hasMore: pending.length > events.length,
		},
	};
}

// ------------------------------------------------------------------------------- imopenlines.config.*

/** A line as config.get / config.list.get give it: every value a string (numbers too), QUEUE a list. */
function lineFields(line: OpenLine): Record<string, unknown> {
	return {
		ID: String(line.id),
		LINE_NAME: line.name,
		ACTIVE: line.active ? 'Y' : 'N',
		WELCOME_BOT_ENABLE: line.welcomeBotEnable ? 'Y' : 'N',
		WELCOME_BOT_ID: String(line.welcomeBotId),
		WELCOME_BOT_JOIN: line.welcomeBotJoin,
		WELCOME_BOT_TIME: String(line.welcomeBotTime),
		WELCOME_BOT_LEFT: line.welcomeBotLeft,
		QUEUE_TYPE: 'evenly',
		CRM: 'Y',
	};
}

const invalidFormat = (description: string) => new RestError(400, 'INVALID_FORMAT', description);
const LIST_PARAMS = ['select', 'order', 'filter', 'limit', 'offset'];

/** config.list.get: PARAMS select / filter (equality) / order by ID / limit (max 200) / offset; OPTIONS.QUEUE. */
function configList(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const query = isRecord(params.PARAMS ?? null) ? (params.PARAMS as ParamRecord) : {};
	const unknown = Object.keys(query).find((key) => !LIST_PARAMS.includes(key));
	if (unknown !== undefined) throw invalidFormat(`Unsupported key in PARAMS: ${unknown}`);
	const all = ctx.world.imbot.lines.map(lineFields);
	const known = new Set(Object.keys(all[0] ?? {}));
	const select = query.select === undefined ? [] : query.select;
	if (!Array.isArray(select) && !isRecord(select)) throw invalidFormat('select must be an array');
	const fields = Object.values(select).map((f) => scalarString(f) ?? '');
	const badField = fields.find((f) => !known.has(f));
	if (badField !== undefined) throw invalidFormat(`Unknown field in select: ${badField}`);
	const filter = isRecord(query.filter ?? null) ? (query.filter as ParamRecord) : {};
	const descending = isRecord(query.order ?? null)
		? String(Object.values(query.order as ParamRecord)[0]).toUpperCase() === 'DESC'
		: false;
	const limit = Math.min(200, Math.max(0, parseInteger(query.limit) ?? 50));
	const offset = Math.max(0, parseInteger(query.offset) ?? 0);
	const withQueue = parseFlag((params.OPTIONS as ParamRecord | undefined)?.QUEUE) === true;
	const lines = ctx.world.imbot.lines
		.filter((line) =>
			Object.entries(filter).every(([key, value]) => lineFields(line)[key] === scalarString(value)),
		)
		.sort((a, b) => (descending ? b.id - a.id : a.id - b.id))
		.slice(offset, offset + limit)
		.map((line) => {
			const row = lineFields(line);
			const picked = fields.length === 0 ? row : Object.fromEntries(fields.map((f) => [f, row[f]]));
			return withQueue ? { ...picked, QUEUE: [...line.queue] } : picked;
		});
	return { result: lines };
}

const configId = (params: ParamRecord): number => {
	const id = parseInteger(params.CONFIG_ID);
	if (id === undefined || id <= 0)
		throw new RestError(400, 'CONFIG_ID_EMPTY', "Config ID can't be empty");
	return id;
};

function configGet(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const line = ctx.world.imbot.lines.find((l) => l.id === configId(params));
	if (!line) throw new RestError(400, 'CONFIG_NOT_FOUND', 'Config not found');
	return { result: lineFields(line) };
}

const JOIN_VALUES = ['always', 'first'] as const;
const LEFT_VALUES = ['queue', 'close'] as const;

/** config.update: the welcome-bot fields (and name, active); `result: false` for an unknown line. */
function configUpdate(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const id = configId(params);
	const line = ctx.world.imbot.lines.find((l) => l.id === id);
	if (!line) return { result: false };
	const update = isRecord(params.PARAMS ?? null) ? (params.PARAMS as ParamRecord) : {};
	const text = (key: string) => scalarString(update[key]);
	if (update.WELCOME_BOT_ENABLE !== undefined)
		line.welcomeBotEnable = parseFlag(update.WELCOME_BOT_ENABLE) === true;
	if (update.WELCOME_BOT_ID !== undefined)
		line.welcomeBotId = parseInteger(update.WELCOME_BOT_ID) ?? 0;
	const join = text('WELCOME_BOT_JOIN');
	if (join !== undefined && (JOIN_VALUES as readonly string[]).includes(join))
		line.welcomeBotJoin = join as OpenLine['welcomeBotJoin'];
	const left = text('WELCOME_BOT_LEFT');
	if (left !== undefined && (LEFT_VALUES as readonly string[]).includes(left))
		line.welcomeBotLeft = left as OpenLine['welcomeBotLeft'];
	if (update.WELCOME_BOT_TIME !== undefined)
		line.welcomeBotTime = parseInteger(update.WELCOME_BOT_TIME) ?? line.welcomeBotTime;
	if (text('LINE_NAME') !== undefined) line.name = text('LINE_NAME') ?? line.name;
	if (update.ACTIVE !== undefined) line.active = parseFlag(update.ACTIVE) === true;
	return { result: true };
}

export const BOT_METHODS = {
	'imbot.v2.bot.register': register,
	'imbot.v2.bot.update': update,
	'imbot.v2.bot.unregister': unregister,
	'imbot.v2.bot.get': get,
	'imbot.v2.bot.list': list,
	'imbot.v2.event.get': eventGet,
} as const;

export const LINE_CONFIG_METHODS = {
	'imopenlines.config.list.get': configList,
	'imopenlines.config.get': configGet,
	'imopenlines.config.update': configUpdate,
} as const;
