import type { IDataObject } from 'n8n-workflow';

import { isObject } from '../shared/json';

/** The trigger's events and the imbot.v2 events behind them. */
export const TRIGGER_EVENTS = {
	message: 'ONIMBOTV2MESSAGEADD',
	dialogStarted: 'ONIMBOTV2JOINCHAT',
	messageEdited: 'ONIMBOTV2MESSAGEUPDATE',
	/** A keyboard button with a COMMAND pressed (or the command typed, or picked from a menu). */
	command: 'ONIMBOTV2COMMANDADD',
} as const;

export type TriggerEvent = keyof typeof TRIGGER_EVENTS;

const EVENT_OF_TYPE: Readonly<Record<string, TriggerEvent>> = Object.fromEntries(
	Object.entries(TRIGGER_EVENTS).map(([event, type]) => [type, event as TriggerEvent]),
);

/** One bot event as either delivery gives it: the webhook's POST body, or an element of Event.get's `events`. */
export interface BotEvent {
	type: string;
	data: IDataObject;
	/** Event.get only. */
	eventId?: number;
	/** The webhook's request-level auth (application_token...). */
	auth?: IDataObject;
}

/** The webhook's nested body (webhookBody.ts) as an event, or undefined when it is not one. */
export function eventFromWebhookBody(body: IDataObject): BotEvent | undefined {
	if (typeof body.event !== 'string' || !isObject(body.data)) return undefined;
	return { type: body.event, data: body.data, auth: isObject(body.auth) ? body.auth : undefined };
}

// Webhook deliveries carry every scalar as a string (§4.6 of the bot notes); Event.get keeps the types.
const numberOf = (value: unknown): number | null => {
	const n = typeof value === 'number' ? value : Number(String(value ?? '').trim() || NaN);
	return Number.isFinite(n) ? n : null;
};
const flagOf = (value: unknown): boolean =>
	value === true || value === 1 || ['1', 'Y', 'true'].includes(String(value));
const textOf = (value: unknown): string =>
	value === undefined || value === null ? '' : String(value);
const objectAt = (record: IDataObject, key: string): IDataObject =>
	isObject(record[key]) ? record[key] : {};

const CRM_TYPES = ['LEAD', 'DEAL', 'CONTACT', 'COMPANY'];

/**
 * The chat's open-line strings: entityId `connector|line|connector chat|connector user`, entityData1 `saved in
 * CRM|type|id|..|..|session|...`, entityData2 `LEAD|id|COMPANY|id|CONTACT|id|DEAL|id`.
 */
function openLineFields(chat: IDataObject): IDataObject {
	const [connector = '', line = '', connectorChatId = '', connectorUserId = ''] = textOf(
		chat.entityId,
	).split('|');
	const session = textOf(chat.entityData1).split('|');
	const bindings = textOf(chat.entityData2).split('|');
	const crmBindings: IDataObject = {};
	for (let i = 0; i + 1 < bindings.length; i += 2) {
		const id = numberOf(bindings[i + 1]);
		const type = bindings[i] ?? '';
		if (CRM_TYPES.includes(type) && id !== null && id > 0) crmBindings[type.toLowerCase()] = id;
	}
	const mainType = session[1] ?? '';
	const mainId = numberOf(session[2]);
	const linked =
		session[0] === 'Y' && CRM_TYPES.includes(mainType) && mainId !== null && mainId > 0;
	return {
		lineId: numberOf(line),
		connector: connector || null,
		connectorChatId: connectorChatId || null,
		connectorUserId: connectorUserId || null,
		sessionId: numberOf(session[5]),
		// imopenlines.crm.* take the type in lower case.
		crmEntityType: linked ? mainType.toLowerCase() : null,
		crmEntityId: linked ? mainId : null,
		crmBindings,
	};
}

/**
 * A command event's own fields: the command without its slash (as a button's COMMAND names it), its ID (for
 * imbot.v2.Command.answer), the button's COMMAND_PARAMS or the text typed after the command, and where it came from
 * (keyboard, textarea, menu).
 */
function commandFields(command: IDataObject): IDataObject {
	return {
		command: textOf(command.command).trim().replace(/^\//, ''),
		commandId: numberOf(command.id),
		commandParams: textOf(command.params),
		commandContext: textOf(command.context) || null,
	};
}

/** Everything but the delivery's credentials (application_token and the bot's auth block stay out of items). */
function rawOf(event: BotEvent): IDataObject {
	const bot = { ...objectAt(event.data, 'bot') };
	delete bot.auth;
	const raw: IDataObject = { type: event.type, data: { ...event.data, bot } };
	if (event.eventId !== undefined) raw.eventId = event.eventId;
	return raw;
}

/**
 * One output item for an event in an open-line chat, every field mappable without parsing; undefined for events
 * the trigger does not emit and chats that are not open-line chats (entityType LINES).
 */
export function eventItem(event: BotEvent): IDataObject | undefined {
	const kind = EVENT_OF_TYPE[event.type];
	const chat = objectAt(event.data, 'chat');
	if (kind === undefined || textOf(chat.entityType) !== 'LINES') return undefined;
	const message = objectAt(event.data, 'message');
	const user = objectAt(event.data, 'user');
	const bot = objectAt(event.data, 'bot');
	const chatId = numberOf(chat.id) ?? numberOf(message.chatId);
	return {
		event: kind,
		chatId,
		dialogId: textOf(chat.dialogId) || (chatId === null ? null : `chat${chatId}`),
		messageId: kind === 'dialogStarted' ? null : numberOf(message.id),
		// A press posts no text of the customer's: the command's fields say what was asked.
		text: kind === 'dialogStarted' || kind === 'command' ? null : textOf(message.text),
		...(kind === 'command' ? commandFields(objectAt(event.data, 'command')) : {}),
		date: textOf(message.date) || null,
		author: {
			id: numberOf(user.id),
			name: textOf(user.name),
			isCustomer: flagOf(user.connector),
			isBot: flagOf(user.bot),
		},
		...openLineFields(chat),
		botId: numberOf(bot.id),
		botCode: textOf(bot.code) || null,
		eventId: event.eventId ?? null,
		raw: rawOf(event),
	};
}

export interface EventFilters {
	events: TriggerEvent[];
	/** Open channels to listen to; empty: all. */
	lineIds: number[];
	/** Only messages the customer wrote and buttons the customer pressed (not operators' or bots'). */
	customerMessagesOnly: boolean;
}

/** Whether an item passes the node's Events and Options. */
export function wanted(item: IDataObject, filters: EventFilters): boolean {
	const event = item.event as TriggerEvent;
	if (!filters.events.includes(event)) return false;
	if (filters.lineIds.length > 0 && !filters.lineIds.includes(item.lineId as number)) return false;
	const author = item.author as IDataObject;
	return event === 'dialogStarted' || !filters.customerMessagesOnly || author.isCustomer === true;
}
