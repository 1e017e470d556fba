import type { IDataObject } from 'n8n-workflow';

import { Bitrix24Failure } from '../../../nodes/shared/errors';
import { MAX_MESSAGE_LENGTH, validateMessageRequest } from '../../../nodes/shared/validation';

/** A request every check accepts; each test breaks one field of it. */
const VALID: IDataObject = {
	CRM_ENTITY_TYPE: 'lead',
	CRM_ENTITY: 1195,
	USER_ID: 27,
	CHAT_ID: 1341,
	MESSAGE: 'Hello from n8n',
};

type Field = 'CRM_ENTITY_TYPE' | 'CRM_ENTITY' | 'USER_ID' | 'CHAT_ID' | 'MESSAGE';

/** Runs the validation and returns what it threw; fails the test when it did not throw a Bitrix24Failure. */
function failureOf(body: IDataObject): Bitrix24Failure {
	let thrown: unknown;
	try {
		validateMessageRequest(body);
	} catch (error) {
		thrown = error;
	}
	expect(thrown).toBeInstanceOf(Bitrix24Failure);
	return thrown as Bitrix24Failure;
}

/** The checks every validation error shares: ERROR_ARGUMENT, the Bitrix24 parameter, no HTTP status. */
function expectArgumentError(body: IDataObject, argument: Field): Bitrix24Failure {
	const failure = failureOf(body);
	expect(failure.code).toBe('ERROR_ARGUMENT');
	expect(failure.argument).toBe(argument);
	expect(failure.httpStatus).toBeNull();
	expect(failure.details).toEqual({
		code: 'ERROR_ARGUMENT',
		description: failure.description,
		httpStatus: null,
		argument,
		delivery: 'not_sent',
	});
	return failure;
}

describe('validateMessageRequest', () => {
	it('returns exactly the five Bitrix24 parameters, normalised', () => {
		const result = validateMessageRequest({
			CRM_ENTITY_TYPE: ' Deal ',
			CRM_ENTITY: '501',
			USER_ID: ' 27 ',
			CHAT_ID: 1500,
			MESSAGE: 'Hi',
			EXTRA: 'not a Bitrix24 parameter',
		});
		expect(result).toStrictEqual({
			CRM_ENTITY_TYPE: 'deal',
			CRM_ENTITY: 501,
			USER_ID: 27,
			CHAT_ID: 1500,
			MESSAGE: 'Hi',
		});
		expect(Object.keys(result).sort()).toEqual(
			['CHAT_ID', 'CRM_ENTITY', 'CRM_ENTITY_TYPE', 'MESSAGE', 'USER_ID'].sort(),
		);
	});

	it('does not modify the body it is given', () => {
		const body: IDataObject = { ...VALID, CRM_ENTITY_TYPE: ' LEAD ', CRM_ENTITY: ' 1195 ' };
		const copy = structuredClone(body);
		validateMessageRequest(body);
		expect(body).toEqual(copy);
	});

	describe.each([
		['CRM_ENTITY', 'CRM Entity ID'],
		['USER_ID', 'Sender'],
		['CHAT_ID', 'Chat'],
	] as const)('%s (%s)', (key, displayName) => {
		it.each([
			['"abc"', 'abc'],
			['0', 0],
			['"0"', '0'],
			['-3', -3],
			['"-3"', '-3'],
			['1.5', 1.5],
			['"1.5"', '1.5'],
			['""', ''],
			['"   "', '   '],
			['undefined', undefined],
			['null', null],
			['"1e3"', '1e3'],
			['"0x10"', '0x10'],
			['{}', {}],
			['a number beyond the safe integer range', '9007199254740993'],
		])('refuses %s', (_label, value) => {
			const failure = expectArgumentError({ ...VALID, [key]: value as IDataObject[string] }, key);
			expect(failure.description).toContain(`"${displayName}"`);
			expect(failure.message).toContain(`"${displayName}"`);
		});

		it('says a list is not one ID, showing it', () => {
			const failure = expectArgumentError({ ...VALID, [key]: [1195] }, key);
			expect(failure.description).toBe(
				`The field "${displayName}" (${key}) must be one ID, not a list ([1195]): map a single value`,
			);
		});

		it('says an ID beyond the safe integer range is too large, not that it is no whole number', () => {
			const failure = expectArgumentError({ ...VALID, [key]: '123456789012345678901234' }, key);
			expect(failure.description).toBe(
				`The field "${displayName}" (${key}) is too large to be a Bitrix24 ID ("123456789012345678901234")`,
			);
		});

		it('refuses a missing key like an empty one', () => {
			const body = { ...VALID };
			delete body[key];
			const failure = expectArgumentError(body, key);
			expect(failure.description).toContain(`"${displayName}"`);
		});

		it.each([
			['1195', 1195],
			['"1195"', '1195'],
			['" 1195 "', ' 1195 '],
			['"\\t1195\\n"', '\t1195\n'],
		])('accepts %s as the number 1195', (_label, value) => {
			const result = validateMessageRequest({ ...VALID, [key]: value });
			expect(result[key]).toBe(1195);
			expect(typeof result[key]).toBe('number');
		});
	});

	describe('CRM_ENTITY_TYPE', () => {
		it.each([
			['lead', 'lead'],
			['LEAD', 'lead'],
			[' Deal ', 'deal'],
			['company', 'company'],
			['Contact', 'contact'],
		])('accepts %j as %j', (value, expected) => {
			expect(validateMessageRequest({ ...VALID, CRM_ENTITY_TYPE: value }).CRM_ENTITY_TYPE).toBe(
				expected,
			);
		});

		it.each([
			['"invoice"', 'invoice'],
			['""', ''],
			['"   "', '   '],
			['undefined', undefined],
			['null', null],
			['5', 5],
			['"quote"', 'quote'],
		])('refuses %s', (_label, value) => {
			const failure = expectArgumentError(
				{ ...VALID, CRM_ENTITY_TYPE: value as IDataObject[string] },
				'CRM_ENTITY_TYPE',
			);
			expect(failure.description).toContain('"CRM Entity Type"');
			// The error lists what is allowed.
			for (const type of ['lead', 'deal', 'company', 'contact']) {
				expect(failure.description).toContain(type);
			}
		});

		it('names the refused value', () => {
			expect(failureOf({ ...VALID, CRM_ENTITY_TYPE: 'invoice' }).description).toContain('invoice');
		});
	});

	describe('MESSAGE', () => {
		it.each([
			['empty', ''],
			['whitespace-only', '  \t  '],
			['newline-only', '\n\n'],
			['CRLF-only', '\r\n'],
			['undefined', undefined],
			['null', null],
		])('refuses a %s message', (_label, value) => {
			const failure = expectArgumentError(
				{ ...VALID, MESSAGE: value as IDataObject[string] },
				'MESSAGE',
			);
			expect(failure.description).toContain('"Message"');
		});

		it('accepts exactly 20,000 characters, unchanged', () => {
			expect(MAX_MESSAGE_LENGTH).toBe(20000);
			const text = 'a'.repeat(20000);
			expect(validateMessageRequest({ ...VALID, MESSAGE: text }).MESSAGE).toBe(text);
		});

		it('refuses 20,001 characters, naming the limit', () => {
			const failure = expectArgumentError({ ...VALID, MESSAGE: 'a'.repeat(20001) }, 'MESSAGE');
			expect(failure.description).toContain('20000');
			expect(failure.description).toContain('"Message"');
		});

		it('counts characters, not UTF-16 units: 20,000 emoji are accepted', () => {
			const text = '😀'.repeat(20000);
			expect(text.length).toBe(40000);
			expect(validateMessageRequest({ ...VALID, MESSAGE: text }).MESSAGE).toBe(text);
		});

		it('refuses 20,001 emoji', () => {
			const failure = expectArgumentError({ ...VALID, MESSAGE: '😀'.repeat(20001) }, 'MESSAGE');
			expect(failure.description).toContain('20000');
		});

		it.each([
			['the text "0"', '0'],
			['the number 0', 0],
		])('refuses %s, which Bitrix24 treats as empty (PHP empty())', (_label, value) => {
			const failure = expectArgumentError({ ...VALID, MESSAGE: value }, 'MESSAGE');
			expect(failure.description).toBe(
				'The field "Message" (MESSAGE) is "0": Bitrix24 treats the text "0" as empty and refuses it; send a longer text',
			);
		});

		it.each([' 0', '00', '0.0', '0 items left'])(
			'accepts %j, which Bitrix24 does not call empty',
			(text) => {
				expect(validateMessageRequest({ ...VALID, MESSAGE: text }).MESSAGE).toBe(text);
			},
		);

		it.each([
			[42, '42'],
			[3.25, '3.25'],
		])('turns the number %p into the string %j', (value, expected) => {
			const result = validateMessageRequest({ ...VALID, MESSAGE: value });
			expect(result.MESSAGE).toBe(expected);
		});

		it.each([
			['cut after the first half of an emoji', 'Your order 😀'.slice(0, -1), 12],
			['starting with the second half of an emoji', '😀 shipped'.slice(1), 1],
		])('refuses a message %s, naming the position', (_label, text, position) => {
			const failure = expectArgumentError({ ...VALID, MESSAGE: text }, 'MESSAGE');
			expect(failure.description).toContain(
				`half of an emoji or other character at position ${position}`,
			);
		});

		it('keeps a multi-line message as it is', () => {
			const text = 'Line 1\nLine 2\n[b]bold[/b]';
			expect(validateMessageRequest({ ...VALID, MESSAGE: text }).MESSAGE).toBe(text);
		});
	});

	describe('with several invalid fields', () => {
		it.each<[Field, IDataObject]>([
			[
				'CRM_ENTITY_TYPE',
				{ CRM_ENTITY_TYPE: 'invoice', CRM_ENTITY: 0, USER_ID: 'x', CHAT_ID: '', MESSAGE: '' },
			],
			['CRM_ENTITY_TYPE', { CRM_ENTITY_TYPE: '', MESSAGE: '' }],
			['CRM_ENTITY', { CRM_ENTITY: 0, USER_ID: 'x', CHAT_ID: '', MESSAGE: '' }],
			['CRM_ENTITY', { CRM_ENTITY: null, MESSAGE: ' ' }],
			['USER_ID', { USER_ID: -1, CHAT_ID: 1.5, MESSAGE: '' }],
			['USER_ID', { USER_ID: '', MESSAGE: 'a'.repeat(20001) }],
			['CHAT_ID', { CHAT_ID: 'abc', MESSAGE: '' }],
			['MESSAGE', { MESSAGE: '' }],
		])('reports %s first', (expected, overrides) => {
			expectArgumentError({ ...VALID, ...overrides }, expected);
		});

		it('reports CRM_ENTITY_TYPE for an empty body', () => {
			expectArgumentError({}, 'CRM_ENTITY_TYPE');
		});
	});
});
