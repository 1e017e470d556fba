import { NodeOperationError } from 'n8n-workflow';
import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecuteSingleFunctions,
	IExecutePaginationFunctions,
	IHookFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IPollFunctions,
	ITriggerFunctions,
	IWebhookFunctions,
	IN8nHttpFullResponse,
	INodeExecutionData,
} from 'n8n-workflow';

import { Bitrix24Failure } from './errors';
import { isObject } from './json';
import { budgetSettings, sharedBudget, type PortalBudget } from './pacing';
import { oauthRestBase, webhookRestBase } from './portalUrl';
import { sharedTokenRefreshes, type TokenRefreshes } from './tokenRefresh';

/** What one REST command came to: Bitrix24's `result` (and its `time` block), or why it failed. */
export type RestOutcome = { result: unknown; time?: unknown } | Bitrix24Failure;

const NOT_REACHED = { code: 'CONNECTION_FAILED', reason: 'the portal could not be reached' };
const TLS_REFUSED = (reason: string) => ({
	code: 'CONNECTION_FAILED',
	reason: `the TLS connection was refused: ${reason}`,
});
const NO_ANSWER = {
	code: 'DELIVERY_UNKNOWN',
	reason: 'the connection was closed before Bitrix24 answered',
};
const TOO_SLOW = { code: 'DELIVERY_UNKNOWN', reason: 'Bitrix24 did not answer in time' };

/**
 * Network failures by Node's error code: whether the request can have reached Bitrix24, and what
 * happened in words (n8n rewrites messages that contain the raw codes). A refused, unresolved or
 * untrusted connection sent nothing; a reset or timeout may have come after Bitrix24 posted the message.
 */
const NETWORK_FAILURES: Record<string, { code: string; reason: string }> = {
	ECONNREFUSED: { code: 'CONNECTION_FAILED', reason: 'the portal refused the connection' },
	ENOTFOUND: { code: 'CONNECTION_FAILED', reason: 'the portal host name was not found' },
	EAI_AGAIN: { code: 'CONNECTION_FAILED', reason: 'the portal host name could not be resolved' },
	EHOSTUNREACH: NOT_REACHED,
	ENETUNREACH: NOT_REACHED,
	CERT_HAS_EXPIRED: TLS_REFUSED("the portal's certificate has expired"),
	CERT_NOT_YET_VALID: TLS_REFUSED("the portal's certificate is not valid yet"),
	DEPTH_ZERO_SELF_SIGNED_CERT: TLS_REFUSED("the portal's certificate is self-signed"),
	SELF_SIGNED_CERT_IN_CHAIN: TLS_REFUSED(
		"the portal's certificate comes from an untrusted authority",
	),
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: TLS_REFUSED(
		"the portal's certificate comes from an unknown authority",
	),
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TLS_REFUSED(
		"the portal's certificate comes from an unknown authority",
	),
	UNABLE_TO_GET_ISSUER_CERT: TLS_REFUSED(
		"the portal's certificate comes from an unknown authority",
	),
	ERR_TLS_CERT_ALTNAME_INVALID: TLS_REFUSED("the portal's certificate is for another host name"),
	ERR_SSL_WRONG_VERSION_NUMBER: TLS_REFUSED('the portal does not speak https on this address'),
	EPROTO: TLS_REFUSED('the secure connection could not be set up'),
	ECONNRESET: NO_ANSWER,
	EPIPE: NO_ANSWER,
	ERR_STREAM_PREMATURE_CLOSE: NO_ANSWER,
	ETIMEDOUT: TOO_SLOW,
	ECONNABORTED: TOO_SLOW,
};

/** Bitrix24's answer: the `result` and `time` of a success, or a Bitrix24Failure for anything else. */
function envelopeOf(body: unknown, httpStatus: number): IDataObject | Bitrix24Failure {
	if (isObject(body) && typeof body.error === 'string' && body.error !== '') {
		// An `error` key is a failure whatever the status, 200 included.
		return new Bitrix24Failure(
			body.error,
			typeof body.error_description === 'string' ? body.error_description : '',
			httpStatus,
			typeof body.argument === 'string' ? body.argument : undefined,
		);
	}
	if (httpStatus >= 200 && httpStatus < 300 && isObject(body) && 'result' in body) {
		const envelope: IDataObject = {
			result: body.result,
			time: isObject(body.time) ? body.time : {},
		};
		// List methods page with `next` (the offset of the next page) beside the result.
		if (typeof body.next === 'number') envelope.next = body.next;
		return envelope;
	}
	// The body itself is left out: error pages often repeat the requested URL, webhook code included.
	const what =
		typeof body === 'string'
			? body.trim() === ''
				? 'was empty'
				: 'was not JSON (or was cut off)'
			: 'had no result';
	return new Bitrix24Failure('UNEXPECTED_RESPONSE', `The answer ${what}.`, httpStatus);
}

/**
 * postReceive of every REST call: n8n hands over the full 2xx response, and this keeps Bitrix24's
 * `result` and `time`, or throws the error Bitrix24 can also put in a 200 answer.
 */
export async function readEnvelope(
	this: IExecuteSingleFunctions,
	_items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const envelope = envelopeOf(response.body, response.statusCode);
	if (envelope instanceof Bitrix24Failure) throw envelope;
	return [{ json: envelope }];
}

/** Turns whatever a request threw into a Bitrix24Failure, without keeping request details (URLs hold secrets). */
export function toBitrix24Failure(error: unknown): Bitrix24Failure {
	if (error instanceof Bitrix24Failure) return error;
	const thrown = isObject(error) ? error : {};
	const cause = isObject(thrown.cause) ? thrown.cause : {};
	if (cause instanceof Bitrix24Failure) return cause;
	// Non-2xx answers reject (after n8n's OAuth refresh on 401): Bitrix24's error body arrives here, as
	// axios' response (n8n 2.x keeps it as the cause) or as n8n's httpCode and context.data (1.x drops the cause).
	const response = isObject(thrown.response)
		? thrown.response
		: isObject(cause.response)
			? cause.response
			: undefined;
	const httpCode = typeof thrown.httpCode === 'string' ? thrown.httpCode : undefined;
	const status =
		typeof response?.status === 'number'
			? response.status
			: httpCode && /^\d{3}$/.test(httpCode)
				? Number(httpCode)
				: undefined;
	if (status !== undefined) {
		const body = response
			? response.data
			: isObject(thrown.context)
				? thrown.context.data
				: undefined;
		const envelope = envelopeOf(body, status);
		if (envelope instanceof Bitrix24Failure) return envelope;
	}
	// n8n's own readable verdicts on the credential, e.g. an OAuth grant that must be reconnected.
	// n8n 1.x: the token endpoint's refusal of a refresh, as the OAuth client's error (code EAUTH) in a NodeApiError.
	if (
		cause instanceof NodeOperationError ||
		thrown instanceof NodeOperationError ||
		httpCode === 'EAUTH'
	) {
		return new Bitrix24Failure('CREDENTIAL_ERROR', String(cause.message ?? thrown.message), null);
	}
	const networkCode = [cause.code, thrown.code, httpCode].find(
		(value) =>
			typeof value === 'string' && Object.prototype.hasOwnProperty.call(NETWORK_FAILURES, value),
	) as string | undefined;
	// Without a known cause the request may have gone out: say so rather than guess.
	const { code, reason } =
		networkCode !== undefined
			? NETWORK_FAILURES[networkCode]
			: { code: 'DELIVERY_UNKNOWN', reason: 'the request failed without an answer' };
	return new Bitrix24Failure(code, reason, null);
}

/**
 * A context that calls Bitrix24 outside a node run: the editor's pick-lists, a trigger's hooks, polls, webhook and
 * event loop.
 */
export type DirectContext =
	| ILoadOptionsFunctions
	| IHookFunctions
	| IPollFunctions
	| ITriggerFunctions
	| IWebhookFunctions;

type Context = IExecuteSingleFunctions | DirectContext;

/** The credential type behind the node's Authentication parameter. */
export function credentialTypeOf(context: Context): string {
	return context.getNodeParameter('authentication', 'webhook') === 'oAuth2'
		? 'bitrix24OAuth2Api'
		: 'bitrix24WebhookApi';
}

/** The host a credential talks to, for keying its budget; never the URL itself (it may hold the secret). */
function portalHost(credentials: IDataObject): string {
	try {
		return new URL(String(credentials.webhookUrl ?? credentials.portalUrl ?? '').trim()).host;
	} catch {
		return 'unknown';
	}
}

/** Every secret the credential holds, to mask wherever an answer echoes one. */
function secretsOf(credentials: IDataObject): string[] {
	const tokens = isObject(credentials.oauthTokenData) ? credentials.oauthTokenData : {};
	const webhookCode = /\/rest\/\d+\/([A-Za-z0-9_]+)/.exec(
		String(credentials.webhookUrl ?? ''),
	)?.[1];
	return [
		webhookCode,
		tokens.access_token,
		tokens.refresh_token,
		credentials.clientSecret,
		credentials.botToken,
	].filter((value): value is string => typeof value === 'string' && value !== '');
}

/** Where, and within which budget, an item's requests go. */
export interface Portal {
	/** Shared by every item and execution that uses the same credential and portal in this process. */
	budget: PortalBudget;
	/** OAuth's REST base; the webhook credential sets its own when it authenticates a request. */
	restBase?: string;
	/** OAuth2 only: the credential's token refreshes, shared like the budget. */
	tokenRefreshes?: TokenRefreshes;
	/** Masked in every text taken from an answer. */
	secrets: string[];
	/** The portal's web address (`https://yourcompany.bitrix24.com`), for links to its pages. */
	origin: string;
}

/** The portal of the node's credential; a credential URL of the wrong shape fails here, before anything is sent. */
export async function portalOf(context: Context): Promise<Portal> {
	const type = credentialTypeOf(context);
	let credentials: IDataObject;
	try {
		credentials = await context.getCredentials(type);
	} catch (error) {
		throw toBitrix24Failure(error);
	}
	const restBase = type === 'bitrix24OAuth2Api' ? oauthRestBase(credentials.portalUrl) : undefined;
	const origin = new URL(restBase ?? webhookRestBase(credentials.webhookUrl)).origin;
	const credentialId = context.getNode().credentials?.[type]?.id ?? 'unsaved';
	const key = `${type}|${credentialId}|${portalHost(credentials)}`;
	return {
		budget: sharedBudget(key, budgetSettings(credentials)),
		restBase,
		tokenRefreshes: restBase === undefined ? undefined : sharedTokenRefreshes(key),
		secrets: secretsOf(credentials),
		origin,
	};
}

/**
 * Sends one request n8n built from the node's parameters (credentials and all), aimed at `method`, once
 * its run's turn in the portal's budget comes. Over OAuth2 an expired token is refreshed once for all the
 * credential's requests (TokenRefreshes). Never throws: a failure comes back labelled with the method, its
 * description cleaned of secrets. Nothing is sent once `stop` aborted.
 */
export async function sendRequest(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	portal: Portal,
	request: { method: string; params: IDataObject; run: object; stop: AbortSignal },
): Promise<RestOutcome> {
	const { method, params, run, stop } = request;
	const options = { ...requestData.options, url: `${method}.json`, body: params };
	if (portal.restBase !== undefined) options.baseURL = portal.restBase;
	const attempt = async (refresh: boolean): Promise<RestOutcome> => {
		if (!(await portal.budget.acquire(run, stop)))
			return new Bitrix24Failure('EXECUTION_STOPPED', 'The execution was stopped.', null);
		// n8n refreshes an OAuth2 token only on a 401 it throws; one it hands back as an answer is left alone.
		const sent = refresh ? options : { ...options, ignoreHttpStatusErrors: true };
		let outcome: RestOutcome;
		try {
			const [item] = await context.makeRoutingRequest({ ...requestData, options: sent });
			outcome = { result: item?.json.result, time: item?.json.time };
		} catch (error) {
			outcome = toBitrix24Failure(error);
		}
		portal.budget.answered(refusedByLimit(outcome));
		return outcome;
	};
	const outcome = portal.tokenRefreshes
		? await portal.tokenRefreshes.send(attempt)
		: await attempt(true);
	return outcome instanceof Bitrix24Failure ? outcome.of(method).scrubbed(portal.secrets) : outcome;
}

/** The portal's rate limit refused the request (503 QUERY_LIMIT_EXCEEDED): it was not processed. */
const refusedByLimit = (outcome: RestOutcome | IDataObject): boolean =>
	outcome instanceof Bitrix24Failure && outcome.code === 'QUERY_LIMIT_EXCEEDED';

/** Bitrix24's answer to a call from the editor, with the portal's web address for links. */
export interface EditorAnswer {
	result: unknown;
	/** The offset of the next page, for list methods. */
	next?: number;
	origin: string;
}

/**
 * A REST call outside a node run (the editor's pick-lists, a trigger's hooks, polls and event loop), through n8n's
 * credential helpers and within the same budget and token refreshes. Throws a Bitrix24Failure, cleaned of the
 * credential's secrets and `secrets`; EXECUTION_STOPPED, unsent, once `stop` aborted while it waited its turn.
 */
export async function editorRequest(
	context: DirectContext,
	method: string,
	params: IDataObject,
	secrets: readonly string[] = [],
	stop?: AbortSignal,
): Promise<EditorAnswer> {
	const portal = await portalOf(context);
	const options: IHttpRequestOptions = {
		method: 'POST',
		baseURL: portal.restBase,
		url: `${method}.json`,
		body: params,
		json: true,
		returnFullResponse: true,
	};
	const attempt = async (refresh: boolean): Promise<IDataObject | Bitrix24Failure> => {
		if (!(await portal.budget.acquire(context, stop)))
			return new Bitrix24Failure('EXECUTION_STOPPED', 'The workflow was deactivated.', null);
		let envelope: IDataObject | Bitrix24Failure;
		try {
			const response = (await context.helpers.httpRequestWithAuthentication.call(
				context,
				credentialTypeOf(context),
				refresh ? options : { ...options, ignoreHttpStatusErrors: true },
			)) as IN8nHttpFullResponse;
			envelope = envelopeOf(response.body, response.statusCode);
		} catch (error) {
			envelope = toBitrix24Failure(error);
		}
		portal.budget.answered(refusedByLimit(envelope));
		return envelope;
	};
	const envelope = portal.tokenRefreshes
		? await portal.tokenRefreshes.send(attempt)
		: await attempt(true);
	if (envelope instanceof Bitrix24Failure)
		throw envelope
			.of(method)
			.beforeSending()
			.scrubbed([...portal.secrets, ...secrets]);
	return {
		result: envelope.result,
		next: typeof envelope.next === 'number' ? envelope.next : undefined,
		origin: portal.origin,
	};
}
