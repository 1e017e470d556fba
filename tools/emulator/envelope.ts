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
	/** Only while the portal's load limiter is active (cloud portals). */
	operating_reset_at?: number;
	operating?: number;
}

export interface RestErrorBody {
	error: string;
	error_description: string;
	argument?: string;
}

/** A failed REST call: HTTP status plus Bitrix24's error code and description. */
export class RestError extends Error {
	/** The parameter at fault (ERROR_ARGUMENT's `argument`). */
	readonly argument?: string;

	/**
	 * An auth failure (rest/lib/oauthexception.php): its code always comes from the auth result, even where an
	 * application exception replaces the description (see processException).
	 */
	readonly oauth: boolean;

	constructor(
		readonly status: number,
		readonly code: string,
		readonly description: string,
		options: { argument?: string; oauth?: boolean } = {},
	) {
		super(`${code}: ${description}`);
		this.name = 'RestError';
		this.argument = options.argument;
		this.oauth = options.oauth === true;
	}

	body(): RestErrorBody {
		const base = { error: this.code, error_description: this.description };
		return this.argument === undefined ? base : { ...base, argument: this.argument };
	}
}

/** An auth-layer refusal: every one is an OAuthException, answered 401 (rest/lib/oauthexception.php). */
const authError = (code: string, description: string) =>
	new RestError(401, code, description, { oauth: true });

/** The error codes the emulator answers with, in one place, worded as the server code words them. */
export const Errors = {
	/** No credentials at all (CRestUtil::checkAuth when no auth handler claims the call). */
	noAuth: () => authError('NO_AUTH_FOUND', 'Wrong authorization data'),
	/** A wrong, deleted or deactivated webhook code, or a wrong user ID (rest/lib/apauth/auth.php::check). */
	invalidCredentials: () => authError('INVALID_CREDENTIALS', 'Invalid request credentials'),
	/** A webhook over plain http where https is required (apauth/auth.php). */
	httpsRequired: () => authError('INVALID_REQUEST', 'Https required.'),
	invalidToken: () => authError('invalid_token', 'The access token provided is invalid.'),
	expiredToken: () => authError('expired_token', 'The access token provided has expired'),
	/** The webhook's or token's scopes lack the method's; inside a batch the description is empty. */
	insufficientScope: (by: 'webhook' | 'oauth' | 'batch') =>
		authError(
			'insufficient_scope',
			by === 'batch'
				? ''
				: `The request requires higher privileges than provided by the ${by === 'webhook' ? 'webhook' : 'access'} token`,
		),
	overload: () => authError('OVERLOAD_LIMIT', 'REST API is blocked due to overload.'),
	/** A plan without REST (Access::isAvailable...). */
	restUnavailable: (by: 'webhook' | 'oauth') =>
		authError(
			'ACCESS_DENIED',
			by === 'webhook'
				? 'REST is available only by subscription.'
				: 'REST is available only on commercial plans.',
		),
	/** The credential's user cannot be signed in (deactivated). */
	authorization: () => authError('authorization_error', 'Unable to authorize user'),
	userAccess: () =>
		authError('user_access_error', 'The user does not have access to the application.'),
	portalDeleted: () => new RestError(403, 'PORTAL_DELETED', 'Portal was deleted'),
	methodNotFound: () => new RestError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!'),
	queryLimit: () => new RestError(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests'),
	operationTimeLimit: () =>
		new RestError(429, 'OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit.'),
	argumentEmpty: (name: string) =>
		new RestError(400, 'ERROR_ARGUMENT', `Argument '${name}' is null or empty`, { argument: name }),
	argumentType: (name: string) =>
		new RestError(400, 'ERROR_ARGUMENT', `The value of an argument '${name}' has an invalid type`, {
			argument: name,
		}),
	/** rest/lib/accessexception.php: "Access denied!" and the method's own reason. */
	accessDenied: (reason: string) => new RestError(403, 'ACCESS_DENIED', `Access denied! ${reason}`),
	chatNotInCrm: () =>
		new RestError(400, 'CHAT_NOT_IN_CRM', 'Chat does not belong to the CRM entity being checked'),
	/** The messenger did not post; processException replaces it with the messenger's own reason, if it gave one. */
	messageNotAdded: () => new RestError(400, 'MESSAGE_ADD_ERROR', "Message isn't added"),
	imNotInstalled: () => new RestError(400, 'IM_NOT_INSTALLED', 'Messenger is not installed.'),
	userNotActive: () => new RestError(400, 'CRM_CHAT_USER_NOT_ACTIVE', 'User not active'),
	wrongRequest: (description: string) => new RestError(400, 'WRONG_REQUEST', description),
	crmChatEmpty: (description: string) => new RestError(400, 'CRM_CHAT_EMPTY_CRM_DATA', description),
	crmChatEmptyUser: () => new RestError(400, 'CRM_CHAT_EMPTY_USER', 'Empty User ID'),
	deleteUserDenied: () =>
		new RestError(
			403,
			'CHAT_DELETE_USER_PERMISSION_DENIED',
			"You don't have access to delete a user from this chat",
		),
	/** A batch command past the 50th (the batch itself still answers 200). */
	batchLength: () => new RestError(400, 'ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded'),
	batchMethodNotAllowed: () =>
		new RestError(405, 'ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage'),
	smartProcessNotFound: () => new RestError(400, 'NOT_FOUND', 'Smart process not found'),
	internal: () => new RestError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'),
} as const;

/** An error the messenger left behind ($APPLICATION->ThrowException): code (may be empty) and text. */
export interface ApplicationException {
	code: string;
	message: string;
}

/**
 * rest.php::processException: a failed call reports the application exception when one was thrown during the
 * request (a batch is one request, and nothing resets it): its code (ERROR_CORE when it has none) and its text.
 * An auth failure keeps its own code (OAuthException::getErrorCode) but takes the text too.
 */
export function processException(
	error: RestError,
	thrown: ApplicationException | undefined,
): RestError {
	if (thrown === undefined) return error;
	const code = error.oauth ? error.code : thrown.code || 'ERROR_CORE';
	return new RestError(error.status, code, thrown.message, {
		argument: error.argument,
		oauth: error.oauth,
	});
}

/** Default descriptions for injected `status` faults that name a known code. */
export const KNOWN_DESCRIPTIONS: Readonly<Record<string, string>> = {
	INTERNAL_SERVER_ERROR: 'Internal server error',
	ERROR_UNEXPECTED_ANSWER: 'Server returned an unexpected response',
	QUERY_LIMIT_EXCEEDED: 'Too many requests',
	OVERLOAD_LIMIT: 'REST API is blocked due to overload.',
	PORTAL_DELETED: 'Portal was deleted',
	ACCESS_DENIED: 'REST is available only by subscription.',
	INVALID_CREDENTIALS: 'Invalid request credentials',
	NO_AUTH_FOUND: 'Wrong authorization data',
	expired_token: 'The access token provided has expired',
	user_access_error: 'The user does not have access to the application.',
	authorization_error: 'Unable to authorize user',
	INVALID_REQUEST: 'Https required.',
};

/** `2024-10-11T10:00:00+00:00`, Bitrix24's date format (emulator runs in UTC). */
export function bitrixDate(ms: number): string {
	return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

/**
 * A success's `time` block (rest.php::appendDebugInfo). `operating` and `operating_reset_at` are there only while
 * the portal's load limiter is active: pass `operatingResetAt` (Unix seconds) then.
 */
export function timeInfo(startMs: number, finishMs: number, operatingResetAt?: number): TimeInfo {
	const duration = Math.max(0, finishMs - startMs);
	const time: TimeInfo = {
		start: seconds(startMs),
		finish: seconds(finishMs),
		duration: seconds(duration),
		processing: seconds(duration),
		date_start: bitrixDate(startMs),
		date_finish: bitrixDate(finishMs),
	};
	return operatingResetAt === undefined
		? time
		: { ...time, operating_reset_at: operatingResetAt, operating: 0 };
}

/** PHP `json_encode` of an associative array: `[]` when empty, a JSON list when keys are 0..n-1. */
export function phpArray(record: Record<string, unknown>): Record<string, unknown> | unknown[] {
	const keys = Object.keys(record);
	if (keys.length === 0) return [];
	const isList = keys.every((k, i) => k === String(i));
	return isList ? keys.map((k) => record[k]) : record;
}
