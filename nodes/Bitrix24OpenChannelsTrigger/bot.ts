import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { botAuth, type BotIdentity } from '../shared/botIdentity';
import { Bitrix24Failure, describeFailure, fixFor } from '../shared/errors';
import { isObject } from '../shared/json';
import { editorRequest, type DirectContext } from '../shared/transport';
import { urlSecretOf } from './context';

/** The imbot.v2 and open-channel methods the trigger calls. */
export const BOT_METHODS = {
	register: 'imbot.v2.Bot.register',
	update: 'imbot.v2.Bot.update',
	get: 'imbot.v2.Bot.get',
	events: 'imbot.v2.Event.get',
	updateLine: 'imopenlines.config.update',
} as const;

/** Where the bot's events go: POSTed to n8n's webhook URL, or kept for Event.get. */
export type Delivery = { eventMode: 'webhook'; webhookUrl: string } | { eventMode: 'fetch' };

/** What the trigger masks in every text from Bitrix24: the credential's secret, the bot token, the URL secret. */
export const secretsOf = (identity: BotIdentity): string[] => [
	identity.secret,
	identity.botToken ?? '',
	urlSecretOf(identity),
];

/** A Bitrix24 call of the trigger: its `result`, or a Bitrix24Failure with the method and every secret masked. */
export async function botCall(
	context: DirectContext,
	identity: BotIdentity,
	method: string,
	params: IDataObject,
): Promise<unknown> {
	const answer = await editorRequest(
		context,
		method,
		{ ...botAuth(identity), ...params },
		secretsOf(identity),
	);
	return answer.result;
}

/** A failure of the trigger's calls as the n8n error the editor and the activation show. */
export function triggerError(context: DirectContext, error: unknown): Error {
	if (!(error instanceof Bitrix24Failure))
		return error instanceof Error ? error : new Error(String(error));
	const scope = error.method?.startsWith('imbot') === true ? 'imbot' : undefined;
	return new NodeOperationError(
		context.getNode(),
		`${error.method ?? 'Bitrix24'}: ${describeFailure(error, { scope })}`,
		{ description: `${fixFor(error)} Bitrix24 said: ${error.description}` },
	);
}

/** The bot with the identity's code, as Bitrix24 knows it now, or undefined when there is none. */
export async function findBot(
	context: DirectContext,
	identity: BotIdentity,
): Promise<IDataObject | undefined> {
	const result = await botCall(context, identity, BOT_METHODS.get, { code: identity.code }).catch(
		(error: unknown) =>
			error instanceof Bitrix24Failure && error.code === 'BOT_NOT_FOUND'
				? undefined
				: Promise.reject(error),
	);
	return isObject(result) && isObject(result.bot) ? result.bot : undefined;
}

/**
 * The trigger's bot, registered if missing (register is idempotent by code: a restart or a second activation finds
 * the same bot) and brought to the wanted delivery. Webhook mode always updates: Bitrix24 does not say which URL a
 * bot has, and an update to the same URL only renews its subscriptions.
 */
export async function ensureBot(
	context: DirectContext,
	identity: BotIdentity,
	name: string,
	delivery: Delivery,
): Promise<number> {
	const registered = await botCall(context, identity, BOT_METHODS.register, {
		fields: {
			code: identity.code,
			...botAuth(identity),
			type: 'openline',
			isSupportOpenline: true,
			...delivery,
			properties: { name },
		},
	});
	const bot = isObject(registered) && isObject(registered.bot) ? registered.bot : {};
	const botId = Number(bot.id);
	if (!Number.isInteger(botId) || botId <= 0)
		throw new NodeOperationError(context.getNode(), 'Bitrix24 registered the bot without an ID');
	if (delivery.eventMode === 'webhook' || bot.eventMode !== delivery.eventMode) {
		await botCall(context, identity, BOT_METHODS.update, {
			botId,
			fields: { ...delivery, properties: { name } },
		});
	}
	return botId;
}

/** Deactivation: the bot keeps its ID, chats and open channels; its events wait for Event.get instead. */
export async function switchToFetch(
	context: DirectContext,
	identity: BotIdentity,
	botId: number,
): Promise<void> {
	await botCall(context, identity, BOT_METHODS.update, { botId, fields: { eventMode: 'fetch' } });
}

/** Makes the bot the welcome bot of each open channel: it joins every new dialog and leaves at hand-over. */
export async function attachToLines(
	context: DirectContext,
	identity: BotIdentity,
	botId: number,
	lineIds: number[],
): Promise<void> {
	for (const lineId of lineIds) {
		const updated = await botCall(context, identity, BOT_METHODS.updateLine, {
			CONFIG_ID: lineId,
			PARAMS: {
				WELCOME_BOT_ENABLE: 'Y',
				WELCOME_BOT_ID: botId,
				WELCOME_BOT_JOIN: 'always',
				WELCOME_BOT_LEFT: 'queue',
			},
		});
		if (updated !== true)
			throw new NodeOperationError(
				context.getNode(),
				`Bitrix24 has no open channel ${lineId} to attach the bot to`,
				{ description: 'Pick the open channel from the list, or check its ID in Contact Center.' },
			);
	}
}
