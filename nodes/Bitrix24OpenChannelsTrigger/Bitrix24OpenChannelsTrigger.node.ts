import { timingSafeEqual } from 'node:crypto';
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { botIdentityOf, derivedSecret, type BotIdentity } from '../shared/botIdentity';
import { Bitrix24Failure } from '../shared/errors';
import { isObject } from '../shared/json';
import type { DirectContext } from '../shared/transport';
import {
	attachToLines,
	BOT_METHODS,
	botCall,
	ensureBot,
	findBot,
	switchToFetch,
	triggerError,
} from './bot';
import {
	eventFromWebhookBody,
	eventItem,
	wanted,
	type BotEvent,
	type EventFilters,
	type TriggerEvent,
} from './events';
import { getOpenChannels } from '../shared/listSearch/getOpenChannels';
import { triggerProperties } from './properties';
import { credentialChoice } from '../shared/authentication';

/** What the trigger keeps in the workflow's static data (n8n saves it after activation, webhooks and polls). */
interface TriggerState extends IDataObject {
	botId?: number;
	/** The URL the bot was pointed at (instant mode). */
	webhookUrl?: string;
	/** Bitrix24's application_token, learned from the first event after registering (trust on first use). */
	applicationToken?: string;
	/** Event.get's next offset (polling mode); unset until the first poll skipped the backlog. */
	offset?: number;
}

/** Events fetched per poll: one Event.get call, so nothing is acknowledged before n8n has the items. */
const EVENTS_PER_POLL = 1000;

const stateOf = (context: DirectContext): TriggerState =>
	context.getWorkflowStaticData('node') as TriggerState;

const identityOf = async (context: DirectContext): Promise<BotIdentity> =>
	await botIdentityOf(context, String(context.getNodeParameter('botCode', '')).trim());

/** IDs of a fixedCollection of open-channel locators. */
function lineIdsOf(context: DirectContext, path: string): number[] {
	const entries = context.getNodeParameter(path, []) as Array<{ line?: { value?: unknown } }>;
	return entries
		.map((entry) => Number(entry.line?.value))
		.filter((id) => Number.isInteger(id) && id > 0);
}

function filtersOf(context: DirectContext): EventFilters {
	const options = context.getNodeParameter('options', {}) as IDataObject;
	return {
		events: context.getNodeParameter('events', ['message']) as TriggerEvent[],
		lineIds: lineIdsOf(context, 'options.onlyFrom.channels'),
		customerMessagesOnly: options.customerMessagesOnly !== false,
	};
}

const botNameOf = (context: DirectContext): string =>
	String(context.getNodeParameter('botName', '') || 'n8n Assistant');

/** n8n's URL for this node plus a secret only this credential can derive: forged posts lack it. */
function webhookUrlOf(context: IHookFunctions | IWebhookFunctions, identity: BotIdentity): string {
	const base = context.getNodeWebhookUrl('default');
	if (base === undefined)
		throw new NodeOperationError(context.getNode(), 'n8n has no webhook URL for this node');
	return `${base}?token=${derivedSecret(identity, 'webhook-url')}`;
}

const isPolling = (context: DirectContext): boolean =>
	context.getNodeParameter('mode', 'instant') === 'polling';

function sameSecret(given: unknown, expected: string): boolean {
	if (typeof given !== 'string') return false;
	const a = Buffer.from(given);
	const b = Buffer.from(expected);
	return a.length === b.length && timingSafeEqual(a, b);
}

/** Items for the events the node's Events and Options want. */
function itemsOf(events: BotEvent[], filters: EventFilters): INodeExecutionData[] {
	return events
		.map((event) => eventItem(event))
		.filter((item): item is IDataObject => item !== undefined && wanted(item, filters))
		.map((json) => ({ json }));
}

async function checkExists(this: IHookFunctions): Promise<boolean> {
	// Polling mode registers nothing with n8n's webhook: its bot is set up by the first poll.
	if (isPolling(this)) return true;
	try {
		const identity = await identityOf(this);
		const state = stateOf(this);
		if (state.botId === undefined || state.webhookUrl !== webhookUrlOf(this, identity))
			return false;
		const bot = await findBot(this, identity);
		return bot !== undefined && Number(bot.id) === state.botId && bot.eventMode === 'webhook';
	} catch (error) {
		throw triggerError(this, error);
	}
}

async function create(this: IHookFunctions): Promise<boolean> {
	try {
		const identity = await identityOf(this);
		const state = stateOf(this);
		const webhookUrl = webhookUrlOf(this, identity);
		const botId = await ensureBot(this, identity, botNameOf(this), {
			eventMode: 'webhook',
			webhookUrl,
		});
		await attachToLines(this, identity, botId, lineIdsOf(this, 'attachTo.channels'));
		if (state.botId !== botId) delete state.applicationToken;
		state.botId = botId;
		state.webhookUrl = webhookUrl;
		return true;
	} catch (error) {
		throw triggerError(this, error);
	}
}

/**
 * Deactivation switches the bot to fetch mode rather than deleting it: its ID stays (open channels keep it as their
 * welcome bot, Bot operations in other workflows keep working, re-activation is one update), and its events wait
 * in Bitrix24 (24 h) instead of going to a URL nobody listens at.
 */
async function deleteWebhook(this: IHookFunctions): Promise<boolean> {
	if (isPolling(this)) return true;
	const state = stateOf(this);
	try {
		const identity = await identityOf(this);
		const bot = await findBot(this, identity);
		if (bot !== undefined) await switchToFetch(this, identity, Number(bot.id));
		delete state.webhookUrl;
		return true;
	} catch {
		return false;
	}
}

/** 403 for a request that does not prove it comes from the bot's Bitrix24; no execution starts. */
function refuse(context: IWebhookFunctions): IWebhookResponseData {
	context.getResponseObject().status(403).json({ error: 'forbidden' });
	return { noWebhookResponse: true };
}

export class Bitrix24OpenChannelsTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Bitrix24 Open Channels Trigger',
		name: 'bitrix24OpenChannelsTrigger',
		icon: { light: 'file:../../icons/bitrix24.svg', dark: 'file:../../icons/bitrix24.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["mode"] === "polling" ? "Polling" : "Instant" }}',
		description:
			'Starts the workflow when a customer writes in a Bitrix24 open channel chat, through a chatbot it sets up',
		defaults: { name: 'Bitrix24 Open Channels Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		polling: true,
		credentials: credentialChoice,
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				// Bitrix24 wants a quick 200; the workflow runs after the answer.
				responseMode: 'onReceived',
				path: 'bitrix24-open-channels',
			},
		],
		properties: triggerProperties,
	};

	methods = { listSearch: { getOpenChannels } };

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await checkExists.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await create.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await deleteWebhook.call(this);
			},
		},
	};

	/**
	 * One event per request. It must carry this node's URL secret, the application_token first seen after
	 * registering (Bitrix24 gives it to no one else) and this node's bot; anything else gets 403 and starts nothing.
	 */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const identity = await identityOf(this);
		if (
			!sameSecret(
				(this.getQueryData() as IDataObject).token,
				derivedSecret(identity, 'webhook-url'),
			)
		)
			return refuse(this);
		const event = eventFromWebhookBody(this.getBodyData());
		const token = event?.auth?.application_token;
		const state = stateOf(this);
		if (event === undefined || typeof token !== 'string' || token === '') return refuse(this);
		if (state.applicationToken !== undefined && !sameSecret(token, state.applicationToken))
			return refuse(this);
		const bot = isObject(event.data.bot) ? event.data.bot : {};
		if (state.botId !== undefined && Number(bot.id) !== state.botId) return refuse(this);
		state.applicationToken ??= token;
		// n8n saves a webhook's whole static data after it: one that loaded it before activation saved the bot would
		// drop it, and n8n's next start would register the bot again. The post proved our URL and bot: keep them.
		if (state.botId === undefined && this.getMode() !== 'manual' && Number(bot.id) > 0) {
			state.botId = Number(bot.id);
			state.webhookUrl = webhookUrlOf(this, identity);
		}
		const items = itemsOf([event], filtersOf(this));
		return items.length === 0 ? { webhookResponse: 'OK' } : { workflowData: [items] };
	}

	/**
	 * Polling mode: the bot (registered in fetch mode on the first poll) keeps its events in Bitrix24; each poll reads
	 * them from the stored offset, which acknowledges what the previous poll emitted. The first poll only skips the
	 * backlog. A manual run ("Fetch Test Event") shows what is waiting without moving the offset.
	 */
	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		if (!isPolling(this)) return null;
		const state = stateOf(this);
		const manual = this.getMode() === 'manual';
		try {
			const identity = await identityOf(this);
			const fresh = state.botId === undefined;
			const botId =
				state.botId ?? (await ensureBot(this, identity, botNameOf(this), { eventMode: 'fetch' }));
			const read = async (offset: number | undefined) =>
				(await botCall(this, identity, BOT_METHODS.events, {
					botId,
					limit: EVENTS_PER_POLL,
					...(offset === undefined ? {} : { offset }),
				})) as { events?: unknown[]; nextOffset?: number; hasMore?: boolean };
			const skipBacklog = state.offset === undefined && !manual;
			if (skipBacklog) {
				let page = await read(undefined);
				while (page.hasMore === true) page = await read(page.nextOffset);
				state.offset = page.nextOffset ?? 0;
			}
			// Attached only once the backlog is behind the offset: every dialog it joins from then on is emitted.
			if (fresh) {
				await attachToLines(this, identity, botId, lineIdsOf(this, 'attachTo.channels'));
				state.botId = botId;
			}
			if (skipBacklog) return null;
			const page = await read(state.offset);
			const events = (page.events ?? []).filter(isObject).map(
				(event): BotEvent => ({
					type: String(event.type),
					data: isObject(event.data) ? event.data : {},
					eventId: Number(event.eventId),
				}),
			);
			if (!manual && typeof page.nextOffset === 'number') state.offset = page.nextOffset;
			const items = itemsOf(events, filtersOf(this));
			return items.length === 0 ? null : [items];
		} catch (error) {
			// A bot deleted in Bitrix24 is registered again by the next poll, which skips the new backlog.
			if (error instanceof Bitrix24Failure && error.code === 'BOT_NOT_FOUND') {
				delete state.botId;
				delete state.offset;
			}
			throw triggerError(this, error);
		}
	}
}
