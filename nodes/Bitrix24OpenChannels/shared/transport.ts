import { NodeOperationError } from 'n8n-workflow';
import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	IExecuteSingleFunctions,
	IN8nHttpFullResponse,
	INodeExecutionData,
} from 'n8n-workflow';

import { Bitrix24Failure } from './errors';

/** Network failures by Node's error code, in words (n8n rewrites messages that contain the raw codes). */
const NETWORK_FAILURES: Record<string, string> = {
	ECONNREFUSED: 'the portal refused the connection',
	ECONNRESET: 'the connection was closed before Bitrix24 answered',
	EPIPE: 'the connection was closed before Bitrix24 answered',
	ETIMEDOUT: 'Bitrix24 did not answer in time',
	ECONNABORTED: 'Bitrix24 did not answer in time',
	ENOTFOUND: 'the portal host name was not found',
	EAI_AGAIN: 'the portal host name could not be resolved',
	CERT_HAS_EXPIRED: "the portal's TLS certificate has expired",
};

function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads Bitrix24's answer: the `result` of a success, or a Bitrix24Failure for anything else. */
function envelopeResult(body: unknown, httpStatus: number): unknown {
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
		return body.result;
	}
	return new Bitrix24Failure(
		'UNEXPECTED_RESPONSE',
		typeof body === 'string' ? body.slice(0, 200) : 'The answer had no result.',
		httpStatus,
	);
}

/**
 * postReceive of every REST call: n8n hands over the full response (status errors are let through
 * by `ignoreHttpStatusErrors`), and this keeps only Bitrix24's `result` or throws its error.
 */
export async function readEnvelope(
	this: IExecuteSingleFunctions,
	_items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const result = envelopeResult(response.body, response.statusCode);
	if (result instanceof Bitrix24Failure) throw result;
	return [{ json: { result } as IDataObject }];
}

/** Turns whatever a request threw into a Bitrix24Failure, without keeping request details (URLs hold secrets). */
export function toBitrix24Failure(error: unknown): Bitrix24Failure {
	if (error instanceof Bitrix24Failure) return error;
	const thrown = isObject(error) ? error : {};
	const cause = isObject(thrown.cause) ? thrown.cause : {};
	if (cause instanceof Bitrix24Failure) return cause;
	// 401 is not let through to postReceive, so OAuth can refresh: its answer arrives here.
	const response = isObject(thrown.response) ? thrown.response : isObject(cause.response) ? cause.response : undefined;
	if (response && typeof response.status === 'number') {
		const result = envelopeResult(response.data, response.status);
		if (result instanceof Bitrix24Failure) return result;
	}
	// n8n's own readable verdicts on the credential, e.g. an OAuth grant that must be reconnected.
	if (cause instanceof NodeOperationError) {
		return new Bitrix24Failure('CREDENTIAL_ERROR', cause.message, null);
	}
	const code = [cause.code, thrown.code].find((value) => typeof value === 'string') as string | undefined;
	const reason = (code && NETWORK_FAILURES[code]) ?? 'the request failed before Bitrix24 answered';
	return new Bitrix24Failure('CONNECTION_FAILED', reason, null);
}

/**
 * Sends the request n8n built from the node's parameters (credentials, OAuth refresh and all) and
 * returns Bitrix24's `result`; throws a Bitrix24Failure when the call fails for any reason.
 */
export async function callRestMethod(
	context: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<unknown> {
	try {
		const [item] = await context.makeRoutingRequest(requestData);
		return item?.json.result;
	} catch (error) {
		throw toBitrix24Failure(error);
	}
}
