/** Types shared by the REST method handlers and the server that calls them. */
import type { Scope } from './auth';
import type { BotPlatform } from './bots';
import type { ApplicationException } from './envelope';
import type { ParamRecord } from './params';
import type { CrmEntityType, World } from './world';

export type AuthKind = 'webhook' | 'oauth';

/** A message the portal accepted through imopenlines.crm.message.add. */
export interface RecordedMessage {
	id: number;
	chatId: number;
	userId: number;
	crmEntityType: CrmEntityType | null;
	crmEntityId: number;
	/** Exactly what was stored (after Bitrix24's 20,000-character truncation). */
	message: string;
	authKind: AuthKind;
	/** Emulator clock (ms) when it was accepted. */
	at: number;
	viaBatch: boolean;
}

/** What a handler produces: `result` plus the list-paging siblings Bitrix24 puts next to it. */
export interface MethodOutcome {
	result: unknown;
	total?: number;
	next?: number;
}

/** What one HTTP request shares across the methods it runs (a batch runs several). */
export interface RequestState {
	/**
	 * The messenger's last $APPLICATION->ThrowException in this request: rest.php::processException reports it
	 * for every later failure, and nothing resets it (so it leaks across a batch's commands).
	 */
	thrown?: ApplicationException;
}

export interface CallContext {
	world: World;
	/** The user behind the webhook or access token. */
	callerId: number;
	authKind: AuthKind;
	/** The OAuth application's client_id (what owns its bots); undefined for webhooks. */
	clientId?: string;
	scopes: readonly string[];
	now: () => number;
	/** Bot events: where the methods hand them for delivery (webhook POST or the fetch queue). */
	bots: BotPlatform;
	messages: RecordedMessage[];
	viaBatch: boolean;
	request: RequestState;
	/**
	 * Run another method as a command of this batch (same credentials and request): its response, a success
	 * envelope (`result`, `time`, maybe `next`, `total`) or an error body.
	 */
	invoke: (method: string, params: ParamRecord) => Record<string, unknown>;
}

export type MethodHandler = (params: ParamRecord, ctx: CallContext) => MethodOutcome;

export interface MethodSpec {
	scope: Scope;
	handler: MethodHandler;
}
