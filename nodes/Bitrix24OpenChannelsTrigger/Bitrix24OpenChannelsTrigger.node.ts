import {
	NodeConnectionTypes,
	NodeOperationError,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import type { BotIdentity } from '../shared/botIdentity';
import { Bitrix24Failure } from '../shared/errors';
import { isObject } from '../shared/json';
import {
	attachToLines,
	BOT_METHODS,
	botCall,
	ensureBot,
	findBot,
	refuseTakeOver,
	restoreLines,
	switchToFetch,
	triggerError,
} from './bot';
import {
	baseUrlOf,
	botNameOf,
	eventItems,
	fetchesEvents,
	identityOf,
	itemsOf,
	modeOf,
	lineIdsOf,
	webhookUrlOf,
} from './context';
import type { BotEvent } from './events';
import { getOpenChannels } from '../shared/listSearch/getOpenChannels';
import { triggerProperties } from './properties';
import { credentialChoice } from '../shared/authentication';
import { receiveEvent } from './receive';
import { forgetLearned, matchesHash, sha256, stateOf, type TriggerState } from './state';
import { startReliable } from './reliable';

/** Events fetched per poll: one Event.get call, so nothing is acknowledged before n8n has the items. */
const EVENTS_PER_POLL = 1000;

async function checkExists(this: IHookFunctions): Promise<boolean> {
	// Only instant mode has Bitrix24 post to n8n: the other modes set their bot up in trigger() or the first poll.
	if (fetchesEvents(this)) return true;
	try {
		const identity = await identityOf(this);
		const state = stateOf(this);
		if (
			state.botId === undefined ||
			!matchesHash(webhookUrlOf(this, identity), state.webhookUrlHash)
		)
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
		const baseUrl = baseUrlOf(this);
		refuseTakeOver(this, identity, await findBot(this, identity), state, baseUrl);
		const botId = await ensureBot(this, identity, botNameOf(this), {
			eventMode: 'webhook',
			webhookUrl,
		});
		const before = await attachToLines(this, identity, botId, lineIdsOf(this, 'attachTo.channels'));
		if (state.botId !== botId) {
			delete state.applicationTokenHash;
			delete state.memberId;
			forgetLearned(this);
		}
		state.botId = botId;
		state.webhookUrlHash = sha256(webhookUrl);
		state.webhookBaseHash = sha256(baseUrl);
		state.linesBefore = { ...state.linesBefore, ...before };
		return true;
	} catch (error) {
		throw triggerError(this, error);
	}
}

/**
 * Deactivation switches the bot to fetch mode rather than deleting it: its ID stays (Bot operations in other
 * workflows keep working, re-activation is one update), and its events wait in Bitrix24 (24 h) instead of going to a
 * URL nobody listens at. The open channels get their own welcome-bot setting back. Only a bot this workflow pointed
 * at its own URL is touched.
 */
async function deleteWebhook(this: IHookFunctions): Promise<boolean> {
	if (fetchesEvents(this)) return true;
	const state = stateOf(this);
	try {
		const identity = await identityOf(this);
		if (!matchesHash(webhookUrlOf(this, identity), state.webhookUrlHash)) return true;
		const bot = await findBot(this, identity);
		if (bot !== undefined && Number(bot.id) === state.botId && bot.eventMode === 'webhook') {
			await switchToFetch(this, identity, Number(bot.id));
			const lineIds = lineIdsOf(this, 'attachTo.channels');
			await restoreLines(this, identity, Number(bot.id), lineIds, state.linesBefore ?? {});
		}
		delete state.webhookUrlHash;
		delete state.webhookBaseHash;
		return true;
	} catch {
		return false;
	}
}

/** The bot a manual poll may read: one already in fetch mode; it never registers, attaches or switches one. */
async function botToRead(context: IPollFunctions, identity: BotIdentity, state: TriggerState) {
	if (state.botId !== undefined) return state.botId;
	const bot = await findBot(context, identity);
	if (bot === undefined)
		throw new NodeOperationError(context.getNode(), `Bitrix24 has no bot "${identity.code}" yet`, {
			description:
				'Fetch Test Event only reads what waits for the bot. Activate the workflow: its first poll sets the bot up, and later test fetches show what customers wrote.',
		});
	if (bot.eventMode !== 'fetch')
		throw new NodeOperationError(
			context.getNode(),
			`The bot "${identity.code}" delivers its events to an active workflow in instant mode`,
			{
				description:
					'Fetch Test Event only reads and leaves the bot as it is. Deactivate the instant-mode workflow, or give this trigger its own Bot Code.',
			},
		);
	return Number(bot.id);
}

/** Polling mode stops: the open channels the first poll attached the bot to get their own setting back. */
async function givenBack(context: ITriggerFunctions, lineIds: number[]): Promise<void> {
	const state = stateOf(context);
	if (state.botId === undefined) return;
	try {
		const identity = await identityOf(context);
		await restoreLines(context, identity, state.botId, lineIds, state.linesBefore ?? {});
	} catch (error) {
		context.logger.warn(`Bitrix24 Open Channels Trigger: ${triggerError(context, error).message}`);
	}
}

export class Bitrix24OpenChannelsTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Bitrix24 Open Channels Trigger',
		name: 'bitrix24OpenChannelsTrigger',
		icon: { light: 'file:../../icons/bitrix24.svg', dark: 'file:../../icons/bitrix24.dark.svg' },
		group: ['trigger'],
		version: [1, 2],
		defaultVersion: 2,
		subtitle:
			'={{ {"polling": "Polling", "reliable": "Reliable", "instant": "Instant"}[$parameter["mode"]] }}',
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

	/** Reliable mode's event loop (reliable.ts); in polling mode, what deactivation gives back to the open channels. */
	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const mode = modeOf(this);
		if (mode === 'reliable') return await startReliable(this);
		if (mode === 'polling') {
			const lineIds = lineIdsOf(this, 'attachTo.channels');
			return { closeFunction: async () => await givenBack(this, lineIds) };
		}
		return {};
	}

	/** One event per request; see receive.ts for what it must prove. */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receiveEvent.call(this);
	}

	/**
	 * Polling mode: the bot (registered in fetch mode on the first poll) keeps its events in Bitrix24; each poll reads
	 * them from the stored offset, which acknowledges what the previous poll emitted. The first poll only skips the
	 * backlog. A manual run ("Fetch Test Event") shows what is waiting without moving the offset, and changes nothing
	 * in Bitrix24.
	 */
	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		if (modeOf(this) !== 'polling') return null;
		const state = stateOf(this);
		const manual = this.getMode() === 'manual';
		try {
			const identity = await identityOf(this);
			const fresh = state.botId === undefined && !manual;
			let botId: number;
			if (manual) botId = await botToRead(this, identity, state);
			else if (state.botId !== undefined) botId = state.botId;
			else {
				refuseTakeOver(this, identity, await findBot(this, identity), state);
				botId = await ensureBot(this, identity, botNameOf(this), { eventMode: 'fetch' });
			}
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
				const before = await attachToLines(
					this,
					identity,
					botId,
					lineIdsOf(this, 'attachTo.channels'),
				);
				state.linesBefore = { ...state.linesBefore, ...before };
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
			const items = itemsOf(this, eventItems(events));
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
