import { createHmac } from 'node:crypto';
import type { IDataObject } from 'n8n-workflow';

import { Bitrix24Failure } from './errors';
import { credentialTypeOf, toBitrix24Failure, type DirectContext } from './transport';

/**
 * A bot is known by its code. Under an inbound webhook every imbot.v2 call also needs the bot's token, which
 * Bitrix24 never hands back: the credential's Bot Token when the user set one (the Bot Dialog operations use it),
 * otherwise derived from the credential's own secret and the code, so the trigger finds the same bot after a
 * restart without storing anything, and nobody without the credential can compute it.
 */
export interface BotIdentity {
	code: string;
	/** Sent as `botToken` under an inbound webhook; undefined over OAuth2 (the application owns its bots). */
	botToken?: string;
	/** The credential's secret, to derive other values (the trigger's URL secret) and to mask. */
	secret: string;
}

/** Bitrix24 takes bot tokens of at most 40 characters. */
const BOT_TOKEN_LENGTH = 40;

const derive = (secret: string, purpose: string): string =>
	createHmac('sha256', secret).update(purpose).digest('base64url');

/** The webhook code (`/rest/<user>/<code>/`) or the OAuth2 application's client secret. */
function secretOf(credentials: IDataObject): string {
	const webhookCode = /\/rest\/\d+\/([A-Za-z0-9_]+)/.exec(
		String(credentials.webhookUrl ?? ''),
	)?.[1];
	const secret = webhookCode ?? credentials.clientSecret;
	if (typeof secret !== 'string' || secret === '')
		throw new Bitrix24Failure(
			'CREDENTIAL_ERROR',
			'The credential holds no secret to identify the bot with.',
			null,
		);
	return secret;
}

/** The identity of the bot with this code for the node's credential. */
export async function botIdentityOf(context: DirectContext, code: string): Promise<BotIdentity> {
	const type = credentialTypeOf(context);
	let credentials: IDataObject;
	try {
		credentials = await context.getCredentials(type);
	} catch (error) {
		throw toBitrix24Failure(error);
	}
	const secret = secretOf(credentials);
	// The credential's Bot Token, when set, is the one the Bot Dialog operations act with (the credential adds it
	// to every bot call): the trigger's bot must then carry it too, so both nodes speak as the same bot.
	const configuredToken = String(credentials.botToken ?? '').trim();
	const botToken =
		type !== 'bitrix24WebhookApi'
			? undefined
			: configuredToken || `n8n_${derive(secret, `bot-token|${code}`)}`.slice(0, BOT_TOKEN_LENGTH);
	return { code, botToken, secret };
}

/** A secret for one purpose (e.g. the trigger's webhook URL), derived like the bot token. */
export const derivedSecret = (identity: BotIdentity, purpose: string): string =>
	derive(identity.secret, `${purpose}|${identity.code}`);

/** `botToken` as imbot.v2 methods take it: only under an inbound webhook. */
export const botAuth = (identity: BotIdentity): IDataObject =>
	identity.botToken === undefined ? {} : { botToken: identity.botToken };
