import { NodeApiError, type IN8nHttpFullResponse, type INode } from 'n8n-workflow';

import { Bitrix24Failure } from '../../../nodes/shared/errors';
import { readEnvelope, toBitrix24Failure } from '../../../nodes/shared/transport';

const WEBHOOK_MARKER = 'k7x9q2m4w8z1v5r3';
const SECRET_URL = `https://yourcompany.bitrix24.com/rest/1/${WEBHOOK_MARKER}/imopenlines.crm.message.add.json`;

const NODE: INode = {
	id: 'node-1',
	name: 'Bitrix24 Open Channels',
	type: 'n8n-nodes-bitrix24-open-channels.bitrix24OpenChannels',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

/** An error as axios throws it for an answered request. */
function axiosError(status: number, data: unknown): Error {
	return Object.assign(new Error(`Request failed with status code ${status}`), {
		isAxiosError: true,
		code: status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST',
		config: { url: SECRET_URL, method: 'post' },
		response: { status, data, headers: {} },
	});
}

/** An error as Node's http client throws it when no answer came. */
function networkError(code: string): Error {
	return Object.assign(new Error(`connect ${code} 127.0.0.1:443 while requesting ${SECRET_URL}`), {
		code,
		config: { url: SECRET_URL },
	});
}

function expectNoSecret(failure: Bitrix24Failure): void {
	for (const text of [failure.message, failure.description, JSON.stringify(failure.details)]) {
		expect(text).not.toContain(WEBHOOK_MARKER);
	}
}

describe('toBitrix24Failure', () => {
	it('hands a Bitrix24Failure back as it is', () => {
		const failure = new Bitrix24Failure(
			'CANCELED',
			'You cannot send messages to the specified chat',
			400,
		);
		expect(toBitrix24Failure(failure)).toBe(failure);
	});

	it('unwraps a Bitrix24Failure thrown as the cause of another error', () => {
		const failure = new Bitrix24Failure('CHAT_NOT_IN_CRM', 'Chat does not belong', 400);
		expect(toBitrix24Failure({ message: 'wrapped', cause: failure })).toBe(failure);
	});

	it("reads Bitrix24's error from an object shaped like NodeApiError wrapping an axios error", () => {
		const failure = toBitrix24Failure({
			message: 'Authorization failed - please check your credentials',
			cause: {
				response: {
					status: 401,
					data: { error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' },
				},
			},
		});
		expect(failure).toBeInstanceOf(Bitrix24Failure);
		expect(failure.code).toBe('NO_AUTH_FOUND');
		expect(failure.description).toBe('Wrong authorization data');
		expect(failure.httpStatus).toBe(401);
		expect(failure.argument).toBeUndefined();
	});

	it("reads Bitrix24's error from n8n's real NodeApiError wrapping an axios error", () => {
		const wrapped = new NodeApiError(
			NODE,
			axiosError(401, {
				error: 'expired_token',
				error_description: 'The access token provided has expired.',
			}) as never,
		);
		const failure = toBitrix24Failure(wrapped);
		expect(failure.code).toBe('expired_token');
		expect(failure.description).toBe('The access token provided has expired.');
		expect(failure.httpStatus).toBe(401);
		expectNoSecret(failure);
	});

	it('reads the error of a bare axios error', () => {
		const failure = toBitrix24Failure(
			axiosError(400, {
				error: 'ERROR_ARGUMENT',
				error_description: 'Argument CHAT_ID is null or empty',
				argument: 'CHAT_ID',
			}),
		);
		expect(failure.details).toStrictEqual({
			code: 'ERROR_ARGUMENT',
			description: 'Argument CHAT_ID is null or empty',
			httpStatus: 400,
			argument: 'CHAT_ID',
			delivery: 'not_sent',
		});
	});

	it('turns an HTML error page into UNEXPECTED_RESPONSE with its status', () => {
		const failure = toBitrix24Failure({
			response: { status: 502, data: '<html>Bad gateway</html>' },
		});
		expect(failure.code).toBe('UNEXPECTED_RESPONSE');
		expect(failure.httpStatus).toBe(502);
	});

	it('turns an error answer without a Bitrix24 envelope into UNEXPECTED_RESPONSE', () => {
		const failure = toBitrix24Failure({
			cause: { response: { status: 500, data: { message: 'oops' } } },
		});
		expect(failure.code).toBe('UNEXPECTED_RESPONSE');
		expect(failure.httpStatus).toBe(500);
	});

	it('turns a refused connection into CONNECTION_FAILED without the raw code', () => {
		const failure = toBitrix24Failure({ cause: { code: 'ECONNREFUSED' } });
		expect(failure.code).toBe('CONNECTION_FAILED');
		expect(failure.httpStatus).toBeNull();
		expect(failure.description).not.toContain('ECONNREFUSED');
		expect(failure.description.trim()).not.toBe('');
	});

	// A refused or unresolved connection sent nothing; after a reset or a timeout the message may have been posted.
	it.each([
		['ECONNREFUSED', 'CONNECTION_FAILED'],
		['ENOTFOUND', 'CONNECTION_FAILED'],
		['EAI_AGAIN', 'CONNECTION_FAILED'],
		['CERT_HAS_EXPIRED', 'CONNECTION_FAILED'],
		['DEPTH_ZERO_SELF_SIGNED_CERT', 'CONNECTION_FAILED'],
		['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CONNECTION_FAILED'],
		['ERR_TLS_CERT_ALTNAME_INVALID', 'CONNECTION_FAILED'],
		['EHOSTUNREACH', 'CONNECTION_FAILED'],
		['ECONNRESET', 'DELIVERY_UNKNOWN'],
		['EPIPE', 'DELIVERY_UNKNOWN'],
		['ETIMEDOUT', 'DELIVERY_UNKNOWN'],
		['ECONNABORTED', 'DELIVERY_UNKNOWN'],
	])(
		'words the network failure %s as %s and drops the request details',
		(networkCode, expected) => {
			for (const error of [
				networkError(networkCode),
				{ message: 'wrapped', cause: networkError(networkCode) },
			]) {
				const failure = toBitrix24Failure(error);
				expect(failure.code).toBe(expected);
				expect(failure.httpStatus).toBeNull();
				expect(typeof failure.description).toBe('string');
				expect(failure.description.trim()).not.toBe('');
				expect(failure.description).not.toContain(networkCode);
				expectNoSecret(failure);
			}
		},
	);

	it('does not carry the URL of an error message into the failure', () => {
		const failure = toBitrix24Failure(new Error(`Request to ${SECRET_URL} failed`));
		// Nothing says whether the request went out.
		expect(failure.code).toBe('DELIVERY_UNKNOWN');
		expect(failure.httpStatus).toBeNull();
		expect(failure.description).not.toContain('https://');
		expectNoSecret(failure);
	});

	it('gives an unknown network code a generic description', () => {
		const failure = toBitrix24Failure(networkError('ESOMETHINGNEW'));
		expect(failure.code).toBe('DELIVERY_UNKNOWN');
		expect(failure.httpStatus).toBeNull();
		expect(failure.description).not.toContain('ESOMETHINGNEW');
		expect(failure.description.trim()).not.toBe('');
		expectNoSecret(failure);
	});

	it.each([
		['undefined', undefined],
		['null', null],
		['a string', `failed: ${SECRET_URL}`],
		['a number', 42],
		['an array', [SECRET_URL]],
	])('copes with %s thrown', (_label, thrown) => {
		const failure = toBitrix24Failure(thrown);
		expect(failure).toBeInstanceOf(Bitrix24Failure);
		expect(failure.code).toBe('DELIVERY_UNKNOWN');
		expect(failure.httpStatus).toBeNull();
		expectNoSecret(failure);
	});
});

describe('toBitrix24Failure with the errors of n8n 1.x, which keeps no cause', () => {
	// n8n 1.x's NodeApiError leaves `cause` undefined and keeps the status in httpCode and the body in context.data.
	it('reads the Bitrix24 error from httpCode and context.data', () => {
		const failure = toBitrix24Failure({
			cause: undefined,
			httpCode: '403',
			context: {
				data: {
					error: 'insufficient_scope',
					error_description: 'The request requires higher privileges',
				},
			},
		});

		expect(failure.details).toEqual({
			code: 'insufficient_scope',
			description: 'The request requires higher privileges',
			httpStatus: 403,
			delivery: 'not_sent',
		});
	});

	it('keeps the status of an answer whose body n8n did not keep (an HTML page)', () => {
		expect(
			toBitrix24Failure({ cause: undefined, httpCode: '502', context: {} }).details,
		).toMatchObject({
			code: 'UNEXPECTED_RESPONSE',
			httpStatus: 502,
		});
	});

	it('reads a network failure from httpCode', () => {
		expect(
			toBitrix24Failure({ cause: undefined, httpCode: 'ECONNREFUSED', context: {} }).details,
		).toEqual({
			code: 'CONNECTION_FAILED',
			description: 'the portal refused the connection',
			httpStatus: null,
			delivery: 'not_sent',
		});
	});

	it("reads the token endpoint's refusal of a refresh (the OAuth client's EAUTH) as CREDENTIAL_ERROR, not sent", () => {
		// n8n 1.x's requestOAuth2 lets the OAuth client's AuthError (code EAUTH) through to a NodeApiError.
		const refused = {
			cause: undefined,
			httpCode: 'EAUTH',
			message: 'The provided authorization grant is invalid',
			context: {},
		};

		expect(toBitrix24Failure(refused).details).toEqual({
			code: 'CREDENTIAL_ERROR',
			description: 'The provided authorization grant is invalid',
			httpStatus: null,
			delivery: 'not_sent',
		});
	});
});

describe('readEnvelope', () => {
	async function read(statusCode: number, body: unknown) {
		const response: IN8nHttpFullResponse = {
			statusCode,
			headers: {},
			body: body as IN8nHttpFullResponse['body'],
		};
		return await readEnvelope.call({} as never, [], response);
	}

	async function failureOf(statusCode: number, body: unknown): Promise<Bitrix24Failure> {
		const thrown: unknown = await read(statusCode, body).then(
			() => undefined,
			(error: unknown) => error,
		);
		expect(thrown).toBeInstanceOf(Bitrix24Failure);
		return thrown as Bitrix24Failure;
	}

	/** The one item of a success: Bitrix24's `result` (and its `time`, used for pacing), nothing else. */
	async function successOf(statusCode: number, body: unknown) {
		const items = await read(statusCode, body);
		expect(items).toHaveLength(1);
		const { json } = items[0];
		for (const key of Object.keys(json)) expect(['result', 'time']).toContain(key);
		return json;
	}

	it('keeps the result of a success', async () => {
		const json = await successOf(200, { result: 5, time: { start: 1, finish: 2 } });
		expect(json.result).toBe(5);
		expect(json.time).toStrictEqual({ start: 1, finish: 2 });
	});

	it.each([
		['a number', 5],
		['an object', { ID: '1', NAME: 'Anna' }],
		['a list', [1, 2]],
		['false', false],
		['null', null],
		['an empty string', ''],
	])('keeps a result that is %s', async (_label, result) => {
		const json = await successOf(200, { result });
		expect(json).toHaveProperty('result');
		expect(json.result).toStrictEqual(result);
	});

	it('treats an error key in a 200 answer as a failure', async () => {
		const failure = await failureOf(200, { error: 'X', error_description: 'd' });
		expect(failure.code).toBe('X');
		expect(failure.description).toBe('d');
		expect(failure.httpStatus).toBe(200);
	});

	it('prefers the error key over a result', async () => {
		const failure = await failureOf(200, { result: 5, error: 'CANCELED', error_description: 'no' });
		expect(failure.code).toBe('CANCELED');
	});

	it('keeps the argument Bitrix24 names', async () => {
		const failure = await failureOf(400, {
			error: 'ERROR_ARGUMENT',
			error_description: 'Argument CRM_ENTITY is null or empty',
			argument: 'CRM_ENTITY',
		});
		expect(failure.details).toStrictEqual({
			code: 'ERROR_ARGUMENT',
			description: 'Argument CRM_ENTITY is null or empty',
			httpStatus: 400,
			argument: 'CRM_ENTITY',
			delivery: 'not_sent',
		});
	});

	it('gives an empty description when Bitrix24 sends none', async () => {
		const failure = await failureOf(400, { error: 'CHAT_NOT_IN_CRM' });
		expect(failure.code).toBe('CHAT_NOT_IN_CRM');
		expect(failure.description).toBe('');
		expect(failure.argument).toBeUndefined();
	});

	it('turns a string body into UNEXPECTED_RESPONSE', async () => {
		const failure = await failureOf(502, '<html><body>502 Bad Gateway</body></html>');
		expect(failure.code).toBe('UNEXPECTED_RESPONSE');
		expect(failure.httpStatus).toBe(502);
	});

	it('shortens a long string body', async () => {
		const failure = await failureOf(502, `<html>${'x'.repeat(5000)}</html>`);
		expect(failure.description.length).toBeLessThanOrEqual(200);
	});

	it('turns a 200 answer without result into UNEXPECTED_RESPONSE', async () => {
		const failure = await failureOf(200, {});
		expect(failure.code).toBe('UNEXPECTED_RESPONSE');
		expect(failure.httpStatus).toBe(200);
	});

	it('does not take a result from an error status', async () => {
		const failure = await failureOf(500, { result: 5 });
		expect(failure.code).toBe('UNEXPECTED_RESPONSE');
		expect(failure.httpStatus).toBe(500);
	});

	it('ignores an empty error code', async () => {
		expect((await successOf(200, { error: '', result: 1 })).result).toBe(1);
	});

	it('does not take a non-string error key for a Bitrix24 code', async () => {
		expect((await failureOf(200, { error: 42 })).code).toBe('UNEXPECTED_RESPONSE');
	});
});
