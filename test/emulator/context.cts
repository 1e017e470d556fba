/** Types shared by the REST method handlers and the server that calls them. */
import type { ParamRecord } from './params.cjs';
import type { CrmEntityType, World } from './world.cjs';

export type AuthKind = 'webhook' | 'oauth';

/** A message the portal accepted through imopenlines.crm.message.add. */
export interface RecordedMessage {
	id: number;
	chatId: number;
	userId: number;
	crmEntityType: CrmEntityType;
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

export interface CallContext {
	world: World;
	/** The user behind the webhook or access token. */
	callerId: number;
	authKind: AuthKind;
	scopes: readonly string[];
	now: () => number;
	messages: RecordedMessage[];
	viaBatch: boolean;
	/** Unix seconds when the method's operating-time budget resets (the envelope's operating_reset_at). */
	operatingResetAt: (method: string) => number;
	/** Run another method with the same credentials (used by `batch`). */
	invoke: (method: string, params: ParamRecord) => MethodOutcome;
}

export type MethodHandler = (params: ParamRecord, ctx: CallContext) => MethodOutcome;

export interface MethodSpec {
	/** Scope the credentials must include; null for methods every credential may call. */
	scope: string | null;
	handler: MethodHandler;
	/** false: refused inside `batch` with ERROR_BATCH_METHOD_NOT_ALLOWED. */
	batchable?: boolean;
}
