import {
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type INodeExecutionData,
	type IWebhookFunctions,
} from 'n8n-workflow';

import { botIdentityOf, derivedSecret, type BotIdentity } from '../shared/botIdentity';
import type { DirectContext } from '../shared/transport';
import { eventItem, wanted, type BotEvent, type EventFilters, type TriggerEvent } from './events';

/** What the trigger's hooks, webhook and polls read of the node's parameters. */
export const identityOf = async (context: DirectContext): Promise<BotIdentity> =>
	await botIdentityOf(context, String(context.getNodeParameter('botCode', '')).trim());

/** IDs of a fixedCollection of open-channel locators. */
export function lineIdsOf(context: DirectContext, path: string): number[] {
	const entries = context.getNodeParameter(path, []) as Array<{ line?: { value?: unknown } }>;
	return entries
		.map((entry) => Number(entry.line?.value))
		.filter((id) => Number.isInteger(id) && id > 0);
}

export function filtersOf(context: DirectContext): EventFilters {
	const options = context.getNodeParameter('options', {}) as IDataObject;
	return {
		events: context.getNodeParameter('events', ['message']) as TriggerEvent[],
		lineIds: lineIdsOf(context, 'options.onlyFrom.channels'),
		customerMessagesOnly: options.customerMessagesOnly !== false,
	};
}

export const botNameOf = (context: DirectContext): string =>
	String(context.getNodeParameter('botName', '') || 'n8n Assistant');

/** How events reach the trigger; version 1 defaults to instant, version 2 to reliable (properties.ts). */
export type TriggerMode = 'instant' | 'polling' | 'reliable';

export const modeOf = (context: DirectContext): TriggerMode => {
	const mode = context.getNodeParameter('mode', 'instant');
	return mode === 'polling' || mode === 'reliable' ? mode : 'instant';
};

/** Whether the bot keeps its events for Event.get (polling and reliable modes) rather than posting them to n8n. */
export const fetchesEvents = (context: DirectContext): boolean => modeOf(context) !== 'instant';

/** The secret in the trigger's URL: only this credential derives it, so forged posts lack it. */
export const urlSecretOf = (identity: BotIdentity): string =>
	derivedSecret(identity, 'webhook-url');

/** n8n's URL for this node (production, or the editor's test URL while it listens). */
export function baseUrlOf(context: IHookFunctions | IWebhookFunctions): string {
	const base = context.getNodeWebhookUrl('default');
	if (base === undefined)
		throw new NodeOperationError(context.getNode(), 'n8n has no webhook URL for this node');
	return base;
}

/** n8n's URL for this node with this credential's URL secret. */
export const webhookUrlOf = (
	context: IHookFunctions | IWebhookFunctions,
	identity: BotIdentity,
): string => `${baseUrlOf(context)}?token=${urlSecretOf(identity)}`;

/** Items for the event items the node's Events and Options want. */
export function itemsOf(context: DirectContext, items: IDataObject[]): INodeExecutionData[] {
	const filters = filtersOf(context);
	return items.filter((item) => wanted(item, filters)).map((json) => ({ json }));
}

/** The items of events (undefined for events the trigger does not emit). */
export const eventItems = (events: BotEvent[]): IDataObject[] =>
	events.map(eventItem).filter((item): item is IDataObject => item !== undefined);
