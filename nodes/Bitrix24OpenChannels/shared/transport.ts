import { NodeOperationError, sleep } from 'n8n-workflow';
import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecuteSingleFunctions,
	IExecutePaginationFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	INodeExecutionData,
} from 'n8n-workflow';

import { Bitrix24Failure } from './errors';
import { budgetSettings, portalBudget, type PortalBudget } from './pacing';
import { webhookRestBase } from './webhookUrl';

/**
 * Network failures by Node's error code: whether the request can have reached Bitrix24, and what
 * happened in words (n8n rewrites messages that contain the raw codes). A refused or unresolved
 * connection sent nothing; a reset or timeout may have come after Bitrix24 posted the message.
 */
const NETWORK_FAILURES: Record<string, { code: string; reason: string }> = {
	ECONNREFUSED: { code: 'CONNECTION_FAILED', reason: 'the portal refused the connection' },
	ENOTFOUND: { code: 'CONNECTION_FAILED', reason: 'the portal host name was not found' },
	EAI_AGAIN: { code: 'CONNECTION_FAILED', reason: 'the portal host name could not be resolved' },
	CERT_HAS_EXPIRED: { code: 'CONNECTION_FAILED', reason: "the portal's TLS certificate has expired" },
	ECONNRESET: { code: 'DELIVERY_UNKNOWN', reason: 'the connection was closed before Bitrix24 answered' },
	EPIPE: { code: 'DELIVERY_UNKNOWN', reason: 'the connection was closed before Bitrix24 answered' },
	ETIMEDOUT: { code: 'DELIVERY_UNKNOWN', reason: 'Bitrix24 did not answer in time' },
	ECONNABORTED: { code: 'DELIVERY_UNKNOWN', reason: 'Bitrix24 did not answer in time' },
};

const MAX_ATTEMPTS = 5;

/** The longest the node waits for a method's time budget to reset before failing the item instead. */
const MAX_OPERATION_LIMIT_WAIT_MS = 60_000;

/** Exponential backoff: 0.5 s, 0.75 s, 1.1 s... as Bitrix24's own SDK does (x1.5 per attempt). */
const backoff = (attempt: number) => Math.round(500 * 1.5 ** (attempt - 1));

/**
 * Failures after which the request may be sent again because Bitrix24 did not process it, with the
 * extra wait before the next attempt (the budget adds the drain wait itself). Anything else, 5xx and
 * lost connections included, is never retried: the message may have been posted.
 */
const RETRIES: Partial<Record<string, (budget: PortalBudget, attempt: number) => number | undefined>> = {
	// Rejected by the rate limit: the portal's bucket is full, so ours must be too.
	QUERY_LIMIT_EXCEEDED: (budget, attempt) => {
		budget.markFull();
		return backoff(attempt);
	},
	// The method's time budget is used up until the reset the portal last reported.
	OPERATION_TIME_LIMIT: (budget) => {
		const wait = budget.operatingResetAt !== undefined ? budget.operatingResetAt + 1000 - Date.now() : 10_000;
		return wait <= MAX_OPERATION_LIMIT_WAIT_MS ? Math.max(wait, 1000) : undefined;
	},
	// Nothing was sent.
	CONNECTION_FAILED: (_budget, attempt) => backoff(attempt),
};

function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
		const envelope: IDataObject = { result: body.result, time: isObject(body.time) ? body.time : {} };
		// List methods page with `next` (the offset of the next page) beside the result.
		if (typeof body.next === 'number') envelope.next = body.next;
		return envelope;
	}
	// The body itself is left out: error pages often repeat the requested URL, webhook code included.
	return new Bitrix24Failure(
		'UNEXPECTED_RESPONSE',
		typeof body === 'string' ? 'The answer was not JSON.' : 'The answer had no result.',
		httpStatus,
	);
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
	const response = isObject(thrown.response) ? thrown.response : isObject(cause.response) ? cause.response : undefined;
	const httpCode = typeof thrown.httpCode === 'string' ? thrown.httpCode : undefined;
	const status =
		typeof response?.status === 'number' ? response.status : httpCode && /^\d{3}$/.test(httpCode) ? Number(httpCode) : undefined;
	if (status !== undefined) {
		const body = response ? response.data : isObject(thrown.context) ? thrown.context.data : undefined;
		const envelope = envelopeOf(body, status);
		if (envelope instanceof Bitrix24Failure) return envelope;
	}
	// n8n's own readable verdicts on the credential, e.g. an OAuth grant that must be reconnected.
	if (cause instanceof NodeOperationError || thrown instanceof NodeOperationError) {
		return new Bitrix24Failure('CREDENTIAL_ERROR', String(cause.message ?? thrown.message), null);
	}
	const networkCode = [cause.code, thrown.code, httpCode].find((value) => typeof value === 'string') as
		| string
		| undefined;
	const network =
		networkCode !== undefined && Object.prototype.hasOwnProperty.call(NETWORK_FAILURES, networkCode)
			? NETWORK_FAILURES[networkCode]
			: undefined;
	// Without a known cause the request may have gone out: say so rather than guess.
	const { code, reason } = network ?? { code: 'DELIVERY_UNKNOWN', reason: 'the request failed without an answer' };
	return new Bitrix24Failure(code, reason, null);
}

/** The host a credential talks to, for keying its budget; never the URL itself (it may hold the secret). */
function portalHost(credentials: IDataObject): string {
	try {
		return new URL(String(credentials.webhookUrl ?? credentials.portalUrl ?? '').trim()).host;
	} catch {
		return 'unknown';
	}
}

type Context = IExecuteSingleFunctions | ILoadOptionsFunctions;

/** The credential type behind the node's Authentication parameter. */
function credentialTypeOf(context: Context): string {
	return context.getNodeParameter('authentication', 'webhook') === 'oAuth2' ? 'bitrix24OAuth2Api' : 'bitrix24WebhookApi';
}

/** `<Portal URL>/rest`, where OAuth calls go. */
function oauthRestBase(portalUrl: unknown): string {
	const invalid = new Bitrix24Failure(
		'INVALID_PORTAL_URL',
		'The Portal URL of the OAuth2 credential is not a web address like https://yourcompany.bitrix24.com',
		null,
	);
	let url: URL;
	try {
		url = new URL(String(portalUrl ?? '').trim());
	} catch {
		throw invalid;
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid;
	return `${url.origin}${url.pathname.replace(/\/+$/, '')}/rest`;
}

/** Where, and within which budget, an item's requests go. */
export interface Portal {
	/** Shared by every item and execution that uses the same credential and portal in this process. */
	budget: PortalBudget;
	/** OAuth's REST base; the webhook credential sets its own when it authenticates a request. */
	restBase?: string;
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
	if (restBase === undefined) webhookRestBase(credentials.webhookUrl);
	const credentialId = context.getNode().credentials?.[type]?.id ?? 'unsaved';
	const budget = portalBudget(`${type}|${credentialId}|${portalHost(credentials)}`, budgetSettings(credentials));
	return { budget, restBase };
}

/** The same request n8n built, aimed at another REST method with other parameters. */
export function forMethod(
	requestData: DeclarativeRestApiSettings.ResultOptions,
	method: string,
	params: IDataObject,
): DeclarativeRestApiSettings.ResultOptions {
	return { ...requestData, options: { ...requestData.options, url: `${method}.json`, body: params } };
}

/**
 * A REST call made while the user edits the node (pick-lists), through n8n's credential helpers and
 * within the same budget. Returns Bitrix24's envelope (`result`, and `next` for lists); throws a Bitrix24Failure.
 */
export async function callFromEditor(
	context: ILoadOptionsFunctions,
	method: string,
	params: IDataObject,
): Promise<IDataObject> {
	const { budget, restBase } = await portalOf(context);
	await sleep(budget.reserve());
	const options: IHttpRequestOptions = {
		method: 'POST',
		baseURL: restBase,
		url: `${method}.json`,
		body: params,
		json: true,
		returnFullResponse: true,
	};
	let response: IN8nHttpFullResponse;
	try {
		response = (await context.helpers.httpRequestWithAuthentication.call(
			context,
			credentialTypeOf(context),
			options,
		)) as IN8nHttpFullResponse;
	} catch (error) {
		throw toBitrix24Failure(error);
	}
	const envelope = envelopeOf(response.body, response.statusCode);
	if (envelope instanceof Bitrix24Failure) throw envelope;
	return envelope;
}

/**
 * Sends the request n8n built from the node's parameters (credentials, OAuth refresh and all) within the
 * portal's budget, re-sending it only when Bitrix24 did not process it. Returns Bitrix24's `result`;
 * throws a Bitrix24Failure when the call fails for good.
 */
export async function callRestMethod(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	{ budget, restBase }: Portal,
): Promise<unknown> {
	if (restBase !== undefined) requestData.options.baseURL = restBase;
	for (let attempt = 1; ; attempt++) {
		await sleep(budget.reserve());
		try {
			const [item] = await context.makeRoutingRequest(requestData);
			budget.noteOperatingReset(item?.json.time);
			return item?.json.result;
		} catch (error) {
			const failure = toBitrix24Failure(error);
			const retry = RETRIES[failure.code];
			const extraWait = retry && attempt < MAX_ATTEMPTS ? retry(budget, attempt) : undefined;
			if (extraWait === undefined || context.getExecutionCancelSignal()?.aborted) throw failure;
			await sleep(extraWait);
		}
	}
}
