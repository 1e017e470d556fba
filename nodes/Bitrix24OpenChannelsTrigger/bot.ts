import {
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type IPollFunctions,
	type ITriggerFunctions,
} from 'n8n-workflow';

import { botAuth, type BotIdentity } from '../shared/botIdentity';
import { Bitrix24Failure, describeFailure, fixFor } from '../shared/errors';
import { isObject } from '../shared/json';
import { editorRequest, type DirectContext } from '../shared/transport';
import { buttonCommandsOf, registerButtonCommands } from './commands';
import { urlSecretOf } from './context';
import { matchesHash, type TriggerState } from './state';

/** The imbot.v2 and open-channel methods the trigger calls. */
export const BOT_METHODS = {
	register: 'imbot.v2.Bot.register',
	update: 'imbot.v2.Bot.update',
	get: 'imbot.v2.Bot.get',
	events: 'imbot.v2.Event.get',
	getLine: 'imopenlines.config.get',
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
	stop?: AbortSignal,
): Promise<unknown> {
	const answer = await editorRequest(
		context,
		method,
		{ ...botAuth(identity), ...params },
		secretsOf(identity),
		stop,
	);
	return answer.result;
}

/**
 * Refuses to take over a bot that delivers its events to another workflow (a copy with the same Bot Code, the same
 * workflow in the other mode, or the editor's test URL): the other would go deaf while it shows active, and its
 * deactivation would later take the bot from this one. This workflow's own bot at its own n8n URL passes, whatever
 * the URL's secret (the credential may have changed); so does n8n's start ('init'): the workflow was active already.
 */
export function refuseTakeOver(
	context: IHookFunctions | IPollFunctions | ITriggerFunctions,
	identity: BotIdentity,
	bot: IDataObject | undefined,
	state: TriggerState,
	ownBaseUrl?: string,
): void {
	if (bot === undefined || bot.eventMode !== 'webhook') return;
	if (context.getActivationMode() === 'init') return;
	if (
		ownBaseUrl !== undefined &&
		Number(bot.id) === state.botId &&
		matchesHash(ownBaseUrl, state.webhookBaseHash)
	)
		return;
	if (context.getMode() === 'manual')
		throw new NodeOperationError(
			context.getNode(),
			`The bot "${identity.code}" delivers its events to an active workflow`,
			{
				description:
					'Listening for a test event would take the bot away from it. Test with another Bot Code (and open channel), or deactivate the active workflow first.',
			},
		);
	throw new NodeOperationError(
		context.getNode(),
		`The bot "${identity.code}" already delivers its events to another workflow`,
		{
			description:
				'Another active workflow (often a copy of this one) listens with the same Bot Code. Deactivate that workflow first, or give this trigger its own Bot Code.',
		},
	);
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
 * bot has, and an update to the same URL only renews its subscriptions. The Button Commands are checked before
 * anything is registered, and registered with the bot (commands.ts).
 */
export async function ensureBot(
	context: DirectContext,
	identity: BotIdentity,
	name: string,
	delivery: Delivery,
): Promise<number> {
	const commands = buttonCommandsOf(context);
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
	await registerButtonCommands(
		botId,
		String(bot.language ?? '') || 'en',
		commands,
		(method, params) => botCall(context, identity, method, params),
	);
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

/** An open channel's own welcome-bot setting, kept while the trigger's bot stands in for it. */
export interface WelcomeBotSetting extends IDataObject {
	WELCOME_BOT_ENABLE: string;
	WELCOME_BOT_ID: string;
	WELCOME_BOT_JOIN: string;
	WELCOME_BOT_LEFT: string;
}

const WELCOME_BOT_FIELDS = [
	'WELCOME_BOT_ENABLE',
	'WELCOME_BOT_ID',
	'WELCOME_BOT_JOIN',
	'WELCOME_BOT_LEFT',
] as const;

async function lineConfig(
	context: DirectContext,
	identity: BotIdentity,
	lineId: number,
): Promise<IDataObject> {
	const config = await botCall(context, identity, BOT_METHODS.getLine, { CONFIG_ID: lineId }).catch(
		(error: unknown) =>
			error instanceof Bitrix24Failure && error.code === 'CONFIG_NOT_FOUND'
				? undefined
				: Promise.reject(error),
	);
	if (!isObject(config))
		throw new NodeOperationError(
			context.getNode(),
			`Bitrix24 has no open channel ${lineId} to attach the bot to`,
			{ description: 'Pick the open channel from the list, or check its ID in Contact Center.' },
		);
	return config;
}

const isWelcomeBot = (config: IDataObject, botId: number): boolean =>
	String(config.WELCOME_BOT_ENABLE) === 'Y' && Number(config.WELCOME_BOT_ID) === botId;

/**
 * Makes the bot the welcome bot of each open channel: it joins every new dialog and leaves at hand-over. The
 * channel's own setting is returned (keyed by line) for restoreLines, unless the bot already held the channel.
 */
export async function attachToLines(
	context: DirectContext,
	identity: BotIdentity,
	botId: number,
	lineIds: number[],
): Promise<Record<string, WelcomeBotSetting>> {
	const before: Record<string, WelcomeBotSetting> = {};
	for (const lineId of lineIds) {
		const config = await lineConfig(context, identity, lineId);
		if (!isWelcomeBot(config, botId))
			before[lineId] = Object.fromEntries(
				WELCOME_BOT_FIELDS.map((field) => [field, String(config[field] ?? '')]),
			) as WelcomeBotSetting;
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
	return before;
}

/**
 * Nobody runs the bot any more (deactivation, deletion, n8n stopping): each open channel it still welcomes gets its
 * own setting back (none kept: the welcome bot is switched off), so a new dialog goes to the operators at once
 * instead of waiting for a bot nobody answers for. Channels that changed hands meanwhile are left alone.
 */
export async function restoreLines(
	context: DirectContext,
	identity: BotIdentity,
	botId: number,
	lineIds: number[],
	before: Readonly<Record<string, WelcomeBotSetting>>,
): Promise<void> {
	for (const lineId of lineIds) {
		const config = await lineConfig(context, identity, lineId).catch(() => undefined);
		if (config === undefined || !isWelcomeBot(config, botId)) continue;
		const own = before[lineId];
		await botCall(context, identity, BOT_METHODS.updateLine, {
			CONFIG_ID: lineId,
			PARAMS:
				own === undefined || Number(own.WELCOME_BOT_ID) === botId
					? { WELCOME_BOT_ENABLE: 'N' }
					: { ...own },
		});
	}
}
