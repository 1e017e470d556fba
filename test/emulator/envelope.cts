/**
 * Bitrix24 answer shapes: the success envelope with its `time` block, error bodies, and PHP's
 * habit of encoding empty or list-like arrays as JSON arrays.
 */

export interface TimeInfo {
	start: number;
	finish: number;
	duration: number;
	processing: number;
	date_start: string;
	date_finish: string;
	operating_reset_at: number;
	operating: number;
}

export interface RestErrorBody {
	error: string;
	error_description: string;
	argument?: string;
}

/** A failed REST call: HTTP status plus Bitrix24's error code and description. */
export class RestError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		readonly description: string,
		readonly argument?: string,
	) {
		super(`${code}: ${description}`);
		this.name = 'RestError';
	}

	body(): RestErrorBody {
		const base = { error: this.code, error_description: this.description };
		return this.argument === undefined ? base : { ...base, argument: this.argument };
	}
}

/** The error codes the emulator answers with, in one place. */
export const Errors = {
	noAuth: () => new RestError(401, 'NO_AUTH_FOUND', 'Wrong authorization data'),
	invalidToken: () => new RestError(401, 'invalid_token', 'The access token provided is invalid.'),
	expiredToken: () => new RestError(401, 'expired_token', 'The access token provided has expired.'),
	insufficientScope: () =>
		new RestError(
			403,
			'insufficient_scope',
			'The request requires higher privileges than provided by the webhook token',
		),
	methodNotFound: () => new RestError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!'),
	queryLimit: () => new RestError(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests'),
	operationTimeLimit: () =>
		new RestError(429, 'OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit.'),
	argumentEmpty: (name: string) =>
		new RestError(400, 'ERROR_ARGUMENT', `Argument '${name}' is null or empty`, name),
	argumentType: (name: string) =>
		new RestError(
			400,
			'ERROR_ARGUMENT',
			`The value of an argument '${name}' has an invalid type`,
			name,
		),
	accessDenied: () =>
		new RestError(403, 'ACCESS_DENIED', "Access denied! User doesn't have access to this entity"),
	chatNotInCrm: () =>
		new RestError(400, 'CHAT_NOT_IN_CRM', 'Chat does not belong to the CRM entity being checked'),
	canceled: () => new RestError(400, 'CANCELED', 'You cannot send messages to the specified chat'),
	crmChatEmpty: () =>
		new RestError(400, 'CRM_CHAT_EMPTY_CRM_DATA', 'No chat is linked to the CRM entity'),
	batchLength: () => new RestError(400, 'ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded'),
	batchMethodNotAllowed: () =>
		new RestError(405, 'ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage'),
	smartProcessNotFound: () => new RestError(400, 'NOT_FOUND', 'Smart process not found'),
	internal: () => new RestError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'),
} as const;

/** Default descriptions for injected `status` faults that name a known code. */
export const KNOWN_DESCRIPTIONS: Readonly<Record<string, string>> = {
	INTERNAL_SERVER_ERROR: 'Internal server error',
	ERROR_UNEXPECTED_ANSWER: 'Server returned an unexpected response',
	QUERY_LIMIT_EXCEEDED: 'Too many requests',
	OVERLOAD_LIMIT: 'REST API is blocked due to overload',
	PORTAL_DELETED: 'Portal was deleted',
	ACCESS_DENIED: 'REST API is available only on commercial plans',
	INVALID_CREDENTIALS: 'Invalid request credentials',
	NO_AUTH_FOUND: 'Wrong authorization data',
	expired_token: 'The access token provided has expired.',
	user_access_error: 'The user does not have access to the application.',
	INVALID_REQUEST: 'Https required',
};

/** `2024-10-11T10:00:00+00:00`, Bitrix24's date format (emulator runs in UTC). */
export function bitrixDate(ms: number): string {
	return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

export function timeInfo(
	startMs: number,
	finishMs: number,
	operatingResetAtSeconds: number,
): TimeInfo {
	const duration = Math.max(0, finishMs - startMs);
	return {
		start: seconds(startMs),
		finish: seconds(finishMs),
		duration: seconds(duration),
		processing: seconds(duration),
		date_start: bitrixDate(startMs),
		date_finish: bitrixDate(finishMs),
		operating_reset_at: operatingResetAtSeconds,
		operating: 0,
	};
}

/** PHP `json_encode` of an associative array: `[]` when empty, a JSON list when keys are 0..n-1. */
export function phpArray(record: Record<string, unknown>): Record<string, unknown> | unknown[] {
	const keys = Object.keys(record);
	if (keys.length === 0) return [];
	const isList = keys.every((k, i) => k === String(i));
	return isList ? keys.map((k) => record[k]) : record;
}
