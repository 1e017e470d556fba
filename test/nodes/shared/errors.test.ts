import {
	Bitrix24Failure,
	describeFailure,
	EXPLAINED_CODES,
	hintFor,
	scrubSecrets,
	type MessageTarget,
} from '../../../nodes/shared/errors';

/** Every code in the "Possible Errors" and "System Error Codes" tables of imopenlines.crm.message.add. */
const SEED_DOC_CODES = [
	'CHAT_NOT_IN_CRM',
	'CANCELED',
	'ACCESS_DENIED',
	'ERROR_ARGUMENT',
	'INTERNAL_SERVER_ERROR',
	'ERROR_UNEXPECTED_ANSWER',
	'QUERY_LIMIT_EXCEEDED',
	'ERROR_BATCH_METHOD_NOT_ALLOWED',
	'ERROR_BATCH_LENGTH_EXCEEDED',
	'NO_AUTH_FOUND',
	'INVALID_REQUEST',
	'OVERLOAD_LIMIT',
	'INVALID_CREDENTIALS',
	'ERROR_MANIFEST_IS_NOT_AVAILABLE',
	'insufficient_scope',
	'expired_token',
	'user_access_error',
	'PORTAL_DELETED',
];

/** Codes Bitrix24 sends that the seed doc does not list (found in the server code, yuliai/bitrix-modules). */
const OTHER_BITRIX24_CODES = [
	'MESSAGE_ADD_ERROR',
	'OPERATION_TIME_LIMIT',
	'ERROR_METHOD_NOT_FOUND',
	'ERROR_FROM_OTHER_MODULE',
	'authorization_error',
	'CRM_CHAT_USER_NOT_ACTIVE',
	'WRONG_REQUEST',
	'ERROR_CORE',
	'IM_NOT_INSTALLED',
];

const CODES = [...SEED_DOC_CODES, ...OTHER_BITRIX24_CODES];

const CONTEXT: MessageTarget = {
	crmEntityType: 'lead',
	crmEntityId: 1195,
	chatId: 1400,
	userId: 27,
};

const DESCRIPTION = 'Some description from Bitrix24';

/** The sentence for an unknown code, with `code` in place of the unknown one. */
function fallbackSentence(code: string, failure: Bitrix24Failure, context: MessageTarget): string {
	const unknown = new Bitrix24Failure(
		'NOT_A_BITRIX24_CODE',
		failure.description,
		failure.httpStatus,
		failure.argument,
	);
	return describeFailure(unknown, context).replace(/\(NOT_A_BITRIX24_CODE\)$/, `(${code})`);
}

describe('describeFailure / hintFor', () => {
	it.each(CODES)('%s is explained', (code) => {
		expect(EXPLAINED_CODES).toContain(code);
		const failure = new Bitrix24Failure(code, DESCRIPTION, 400);
		const sentence = describeFailure(failure, CONTEXT);
		expect(sentence.endsWith(` (${code})`)).toBe(true);
		expect(sentence).not.toBe(fallbackSentence(code, failure, CONTEXT));
		expect(sentence).not.toContain('undefined');
		expect(hintFor(failure).trim()).not.toBe('');
		expect(hintFor(failure)).not.toBe(
			hintFor(new Bitrix24Failure('NOT_A_BITRIX24_CODE', DESCRIPTION, 400)),
		);
	});

	it.each(EXPLAINED_CODES)('%s reads well without any context', (code) => {
		const sentence = describeFailure(new Bitrix24Failure(code, DESCRIPTION, 400), {});
		expect(sentence.endsWith(` (${code})`)).toBe(true);
		expect(sentence).not.toMatch(/undefined|null|NaN/);
		expect(sentence.length).toBeGreaterThan(` (${code})`.length);
	});

	it.each([
		['the full context', CONTEXT],
		['no context', {}],
	])('gives every explained code its own sentence (%s)', (_label, context: MessageTarget) => {
		const sentences = EXPLAINED_CODES.map((code) =>
			describeFailure(new Bitrix24Failure(code, DESCRIPTION, 400), context).replace(
				/ \([^()]*\)$/,
				'',
			),
		);
		expect(new Set(sentences).size).toBe(EXPLAINED_CODES.length);
	});

	it('phrases CHAT_NOT_IN_CRM with the chat and the entity', () => {
		const failure = new Bitrix24Failure(
			'CHAT_NOT_IN_CRM',
			'Chat does not belong to the CRM entity being checked',
			400,
		);
		expect(describeFailure(failure, CONTEXT)).toBe(
			'Bitrix24 refused the message: the chat 1400 is not linked to lead 1195 or its dialog is not in progress (CHAT_NOT_IN_CRM)',
		);
	});

	it('phrases CANCELED with the sender and the chat', () => {
		const sentence = describeFailure(
			new Bitrix24Failure('CANCELED', 'You cannot send messages to the specified chat', 400),
			CONTEXT,
		);
		expect(sentence).toContain('27');
		expect(sentence).toContain('1400');
	});

	it("tells the plan's ACCESS_DENIED (401, the auth layer) from the entity's (403)", () => {
		const plan = new Bitrix24Failure(
			'ACCESS_DENIED',
			'REST is available only by subscription.',
			401,
		);
		const entity = new Bitrix24Failure(
			'ACCESS_DENIED',
			'Access denied! You dont have access to this action',
			403,
		);

		expect(describeFailure(plan, CONTEXT)).toBe(
			"Bitrix24 refused the call: the portal's plan does not include the REST API (ACCESS_DENIED)",
		);
		expect(hintFor(plan)).toMatch(
			/^Webhooks and applications work on Bitrix24's commercial plans only/,
		);
		expect(describeFailure(entity, CONTEXT)).toBe(
			'Bitrix24 denied access to lead 1195 (ACCESS_DENIED)',
		);
		expect(hintFor(entity)).toMatch(/read access to this CRM entity/);
		expect(hintFor(entity)).not.toMatch(/plan/);
	});

	it('says a wrong webhook code is wrong, not a lack of permission (INVALID_CREDENTIALS is 401)', () => {
		const failure = new Bitrix24Failure('INVALID_CREDENTIALS', 'Invalid request credentials', 401);
		expect(describeFailure(failure, {})).toMatch(/code is wrong, or the webhook was deleted/);
		expect(hintFor(failure)).toMatch(/Copy the webhook URL again/);
		expect(describeFailure(failure, {})).not.toMatch(/permission/);
	});

	it('phrases ACCESS_DENIED with the entity', () => {
		const sentence = describeFailure(new Bitrix24Failure('ACCESS_DENIED', 'Access denied!', 403), {
			crmEntityType: 'deal',
			crmEntityId: 501,
		});
		expect(sentence).toContain('deal 501');
	});

	it('shows a validation error of the node (no HTTP status) as its own description', () => {
		const failure = new Bitrix24Failure(
			'ERROR_ARGUMENT',
			'The field "Chat" (CHAT_ID) must be a positive whole number, not "abc"',
			null,
			'CHAT_ID',
		);
		expect(describeFailure(failure, CONTEXT)).toBe(`${failure.description} (ERROR_ARGUMENT)`);
	});

	it("names the parameter of Bitrix24's own ERROR_ARGUMENT", () => {
		const failure = new Bitrix24Failure(
			'ERROR_ARGUMENT',
			'Argument MESSAGE is null or empty',
			400,
			'MESSAGE',
		);
		const sentence = describeFailure(failure, CONTEXT);
		expect(sentence).toContain('MESSAGE');
		expect(sentence).toContain('Argument MESSAGE is null or empty');
		expect(sentence.endsWith('(ERROR_ARGUMENT)')).toBe(true);
	});

	it('mentions the HTTP status of an unexpected response', () => {
		expect(
			describeFailure(new Bitrix24Failure('UNEXPECTED_RESPONSE', '<html>', 502), {}),
		).toContain('502');
		expect(
			describeFailure(new Bitrix24Failure('UNEXPECTED_RESPONSE', '<html>', null), {}),
		).not.toContain('null');
	});

	it("falls back to Bitrix24's description and code for an unknown code", () => {
		const failure = new Bitrix24Failure('SOMETHING_NEW', 'A brand new failure', 400);
		const sentence = describeFailure(failure, CONTEXT);
		expect(sentence).toContain('A brand new failure');
		expect(sentence.endsWith('(SOMETHING_NEW)')).toBe(true);
		expect(EXPLAINED_CODES).not.toContain('SOMETHING_NEW');
		expect(hintFor(failure).trim()).not.toBe('');
	});

	it('says so when an unknown code comes without a description', () => {
		const sentence = describeFailure(new Bitrix24Failure('SOMETHING_NEW', '', 500), {});
		expect(sentence).toMatch(/no description/);
		expect(sentence.endsWith('(SOMETHING_NEW)')).toBe(true);
	});

	it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
		'treats the Object member name %j as an unknown code',
		(code) => {
			const failure = new Bitrix24Failure(code, 'odd', 400);
			expect(describeFailure(failure, {})).toBe(fallbackSentence(code, failure, {}));
			expect(typeof hintFor(failure)).toBe('string');
			expect(EXPLAINED_CODES).not.toContain(code);
		},
	);

	it('explains codes case-sensitively, like Bitrix24 sends them', () => {
		const lower = new Bitrix24Failure('chat_not_in_crm', DESCRIPTION, 400);
		expect(describeFailure(lower, CONTEXT)).toBe(
			fallbackSentence('chat_not_in_crm', lower, CONTEXT),
		);
	});
});

describe('Bitrix24Failure', () => {
	it('is an Error whose message starts with the code', () => {
		const failure = new Bitrix24Failure(
			'CANCELED',
			'You cannot send messages to the specified chat',
			400,
		);
		expect(failure).toBeInstanceOf(Error);
		expect(failure.name).toBe('Bitrix24Failure');
		expect(failure.message).toBe('CANCELED: You cannot send messages to the specified chat');
	});

	it('has code, description and httpStatus in its details', () => {
		const details = new Bitrix24Failure('NO_AUTH_FOUND', 'Wrong authorization data', 401).details;
		expect(details).toStrictEqual({
			code: 'NO_AUTH_FOUND',
			description: 'Wrong authorization data',
			httpStatus: 401,
			delivery: 'not_sent',
		});
		expect(Object.prototype.hasOwnProperty.call(details, 'argument')).toBe(false);
	});

	it('keeps a null httpStatus in its details', () => {
		expect(new Bitrix24Failure('CONNECTION_FAILED', 'refused', null).details).toStrictEqual({
			code: 'CONNECTION_FAILED',
			description: 'refused',
			httpStatus: null,
			delivery: 'not_sent',
		});
	});

	it('adds the argument to its details only when given', () => {
		expect(new Bitrix24Failure('ERROR_ARGUMENT', 'bad', 400, 'CHAT_ID').details).toStrictEqual({
			code: 'ERROR_ARGUMENT',
			description: 'bad',
			httpStatus: 400,
			argument: 'CHAT_ID',
			delivery: 'not_sent',
		});
	});

	it('gives plain JSON details', () => {
		const details = new Bitrix24Failure('ERROR_ARGUMENT', 'bad', 400, 'CHAT_ID').details;
		expect(JSON.parse(JSON.stringify(details))).toStrictEqual(details);
	});
});

describe('delivery verdicts', () => {
	it.each([
		// Refused before anything was posted: safe to send again.
		['CHAT_NOT_IN_CRM', 400, 'not_sent'],
		['QUERY_LIMIT_EXCEEDED', 503, 'not_sent'],
		['OVERLOAD_LIMIT', 503, 'not_sent'],
		['PORTAL_DELETED', 403, 'not_sent'],
		['ERROR_FROM_OTHER_MODULE', 400, 'not_sent'],
		['ERROR_CORE', 400, 'not_sent'],
		['OPERATION_TIME_LIMIT', 429, 'not_sent'],
		['CONNECTION_FAILED', null, 'not_sent'],
		['EXECUTION_STOPPED', null, 'not_sent'],
		['ERROR_ARGUMENT', null, 'not_sent'],
		['SOMETHING_NEW', 418, 'not_sent'],
		// Any answer that can come after the portal acted.
		['INTERNAL_SERVER_ERROR', 500, 'unknown'],
		['ERROR_UNEXPECTED_ANSWER', 500, 'unknown'],
		['UNEXPECTED_RESPONSE', 504, 'unknown'],
		// Several refusals are 400; a database error is 500, maybe after the message was stored.
		['ERROR_CORE', 500, 'unknown'],
		['UNEXPECTED_RESPONSE', 200, 'unknown'],
		['UNEXPECTED_RESPONSE', 404, 'unknown'],
		['DELIVERY_UNKNOWN', null, 'unknown'],
		['SOMETHING_NEW', 502, 'unknown'],
	] as const)('%s with HTTP %p is %s', (code, status, delivery) => {
		const failure = new Bitrix24Failure(code, DESCRIPTION, status);
		expect(failure.delivery).toBe(delivery);
		expect(failure.details.delivery).toBe(delivery);
	});

	it('never tells the user to retry after an answer that may have come after posting', () => {
		for (const code of EXPLAINED_CODES) {
			const failure = new Bitrix24Failure(code, DESCRIPTION, 500);
			if (failure.delivery === 'unknown') {
				expect(hintFor(failure)).not.toMatch(/\bretry\b|safe to send/i);
				expect(hintFor(failure)).toMatch(/check the chat/i);
			}
		}
	});

	it('calls a failed lookup not sent, and words it without the message', () => {
		const lookup = new Bitrix24Failure(
			'DELIVERY_UNKNOWN',
			'the connection was closed',
			null,
			undefined,
			'imopenlines.crm.chat.get',
		);
		expect(lookup.beforeSending().delivery).toBe('not_sent');
		expect(describeFailure(lookup, CONTEXT)).toBe(
			'Bitrix24 did not answer imopenlines.crm.chat.get: the connection was closed (DELIVERY_UNKNOWN)',
		);
		expect(
			describeFailure(
				new Bitrix24Failure('ERROR_METHOD_NOT_FOUND', '', 404, undefined, 'user.search'),
				{},
			),
		).toBe('Bitrix24 does not know the method user.search (ERROR_METHOD_NOT_FOUND)');
	});
});

describe('scrubSecrets', () => {
	it('masks the secrets given and anything shaped like a webhook path, token parameter or bearer header', () => {
		const text =
			'Bad request to https://x.bitrix24.com/rest/1/abc123secret/imopenlines.crm.message.add.json?auth=tok3n&x=1 ' +
			'with Authorization: Bearer eyJhbGciOi.x-y_z and client_secret=s3cr3t and the token 0123456789abcdef';
		const scrubbed = scrubSecrets(text, ['0123456789abcdef']);

		for (const secret of ['abc123secret', 'tok3n', 'eyJhbGciOi', 's3cr3t', '0123456789abcdef']) {
			expect(scrubbed).not.toContain(secret);
		}
		expect(scrubbed).toContain('/rest/1/***/imopenlines.crm.message.add.json');
	});
});
