import type { IDataObject } from 'n8n-workflow';

import { Bitrix24Failure } from './errors';

export const CRM_ENTITY_TYPES = ['lead', 'deal', 'company', 'contact'] as const;
export type CrmEntityType = (typeof CRM_ENTITY_TYPES)[number];

/** Bitrix24 silently truncates longer messages, so the node refuses them instead. */
export const MAX_MESSAGE_LENGTH = 20000;

/** The body of imopenlines.crm.message.add, exactly as Bitrix24 reads it. */
export interface MessageRequest {
	CRM_ENTITY_TYPE: CrmEntityType;
	CRM_ENTITY: number;
	USER_ID: number;
	CHAT_ID: number;
	MESSAGE: string;
}

/** Where each Bitrix24 parameter came from, as an error names it: `field "Chat"`, `input field "chat"`. */
export type FieldLabels = Record<keyof MessageRequest, string>;

/** The node's own fields (Input: Define Below). */
const NODE_FIELDS: FieldLabels = {
	CRM_ENTITY_TYPE: 'field "CRM Entity Type"',
	CRM_ENTITY: 'field "CRM Entity ID"',
	USER_ID: 'field "Sender"',
	CHAT_ID: 'field "Chat"',
	MESSAGE: 'field "Message"',
};

function invalid(
	argument: keyof MessageRequest,
	problem: string,
	labels: FieldLabels = NODE_FIELDS,
): Bitrix24Failure {
	return new Bitrix24Failure(
		'ERROR_ARGUMENT',
		`The ${labels[argument]} (${argument}) ${problem}`,
		null,
		argument,
	);
}

/** Where the body's values came from: the node's fields, or the input item's fields by name. */
export interface FieldSource {
	labels: FieldLabels;
	/** Whether a parameter missing from the body is an item without the field, to say so. */
	fromItem: boolean;
}

const NODE_SOURCE: FieldSource = { labels: NODE_FIELDS, fromItem: false };

/** The input item's fields named for each parameter (Input: Take From Input Fields). */
export function inputFieldSource(fieldNames: FieldLabels): FieldSource {
	const labels = {} as FieldLabels;
	for (const argument of Object.keys(fieldNames) as Array<keyof MessageRequest>) {
		labels[argument] = `input field "${fieldNames[argument]}"`;
	}
	return { labels, fromItem: true };
}

/** Shows a received value in an error without flooding it. */
function shown(value: unknown): string {
	const text =
		typeof value === 'string' || typeof value === 'object' ? JSON.stringify(value) : String(value);
	const characters = Array.from(text);
	return characters.length > 40 ? `${characters.slice(0, 37).join('')}...` : text;
}

const isEmpty = (value: unknown) =>
	value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/** How an error names what it got instead of a valid value. */
const received = (value: unknown) =>
	isEmpty(value) ? ', but it is empty' : `, not ${shown(value)}`;

/** Digits of a number or string value (trimmed); undefined for anything else. */
function digitsOf(value: unknown): string | undefined {
	const text =
		typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
	// Digits only: rejects "1.5", "-3", "1e3" and "0x10", which Number() would accept.
	return /^\d+$/.test(text) ? text : undefined;
}

/** A Bitrix24 ID (a positive whole number, as a number or text), or undefined. */
export function positiveIdOf(value: unknown): number | undefined {
	const digits = digitsOf(value);
	const id = digits === undefined ? NaN : Number(digits);
	return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The CRM entity type named (any case, surrounding spaces), or undefined. */
export function crmEntityTypeOf(value: unknown): CrmEntityType | undefined {
	const type = typeof value === 'string' ? value.trim().toLowerCase() : '';
	return (CRM_ENTITY_TYPES as readonly string[]).includes(type)
		? (type as CrmEntityType)
		: undefined;
}

function positiveId(
	body: IDataObject,
	argument: 'CRM_ENTITY' | 'USER_ID' | 'CHAT_ID',
	labels: FieldLabels,
): number {
	const value = body[argument];
	if (Array.isArray(value)) {
		throw invalid(
			argument,
			`must be one ID, not a list (${shown(value)}): map a single value`,
			labels,
		);
	}
	const id = positiveIdOf(value);
	if (id !== undefined) return id;
	if (digitsOf(value) !== undefined && Number(digitsOf(value)) > 0) {
		throw invalid(argument, `is too large to be a Bitrix24 ID (${shown(value)})`, labels);
	}
	throw invalid(argument, `must be a positive whole number${received(value)}`, labels);
}

function entityType(body: IDataObject, labels: FieldLabels): CrmEntityType {
	const value = body.CRM_ENTITY_TYPE;
	const type = crmEntityTypeOf(value);
	if (type === undefined) {
		throw invalid(
			'CRM_ENTITY_TYPE',
			`must be one of ${CRM_ENTITY_TYPES.join(', ')}${received(value)}`,
			labels,
		);
	}
	return type;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
export const LONE_SURROGATE =
	/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function messageText(body: IDataObject, labels: FieldLabels): string {
	const value = body.MESSAGE;
	if (typeof value !== 'string' && typeof value !== 'number' && !isEmpty(value)) {
		throw invalid('MESSAGE', `must be text${received(value)}`, labels);
	}
	const text = isEmpty(value) ? '' : String(value);
	if (text.trim() === '') {
		throw invalid('MESSAGE', 'is empty: write the text to send', labels);
	}
	// The server refuses a message PHP's empty() calls empty, and that includes "0" (imopenlines/lib/rest.php).
	if (text === '0') {
		throw invalid(
			'MESSAGE',
			'is "0": Bitrix24 treats the text "0" as empty and refuses it; send a longer text',
			labels,
		);
	}
	// Half of a surrogate pair (text cut in the middle of an emoji) cannot be encoded for Bitrix24 at all.
	const broken = LONE_SURROGATE.exec(text);
	if (broken) {
		throw invalid(
			'MESSAGE',
			`has half of an emoji or other character at position ${broken.index + 1} (the text was probably cut inside it); cut text by characters, e.g. Array.from(text).slice(0, 50).join('')`,
			labels,
		);
	}
	// Bitrix24 counts characters (code points), not UTF-16 units.
	const length = Array.from(text).length;
	if (length > MAX_MESSAGE_LENGTH) {
		throw invalid(
			'MESSAGE',
			`is ${length} characters long; Bitrix24 accepts at most ${MAX_MESSAGE_LENGTH} and would cut the rest`,
			labels,
		);
	}
	return text;
}

/** The checks of each parameter, in the order Bitrix24 checks them. */
const CHECKS: {
	[Key in keyof MessageRequest]: (body: IDataObject, labels: FieldLabels) => MessageRequest[Key];
} = {
	CRM_ENTITY_TYPE: entityType,
	CRM_ENTITY: (body, labels) => positiveId(body, 'CRM_ENTITY', labels),
	USER_ID: (body, labels) => positiveId(body, 'USER_ID', labels),
	CHAT_ID: (body, labels) => positiveId(body, 'CHAT_ID', labels),
	MESSAGE: messageText,
};

/** A message whose chat the node still has to find (the CRM entity's active chat). */
export type MessageDraft = Omit<MessageRequest, 'CHAT_ID'>;

function validated<Key extends keyof MessageRequest>(
	body: IDataObject,
	keys: Key[],
	{ labels, fromItem }: FieldSource,
): Pick<MessageRequest, Key> {
	const request = {} as Pick<MessageRequest, Key>;
	for (const key of keys) {
		if (fromItem && !Object.prototype.hasOwnProperty.call(body, key)) {
			throw invalid(key, 'is not in the item: enter the name of the field that holds it', labels);
		}
		request[key] = CHECKS[key](body, labels);
	}
	return request;
}

/**
 * Checks the request body the node's parameters produced and returns it normalised
 * (numbers for IDs, lower-case entity type, exactly the five keys), or throws a Bitrix24Failure
 * with code ERROR_ARGUMENT naming the first field at fault.
 */
export function validateMessageRequest(
	body: IDataObject,
	source: FieldSource = NODE_SOURCE,
): MessageRequest {
	return validated(
		body,
		['CRM_ENTITY_TYPE', 'CRM_ENTITY', 'USER_ID', 'CHAT_ID', 'MESSAGE'],
		source,
	);
}

/** The same checks for a message sent to the CRM entity's active chat: everything but the chat. */
export function validateMessageDraft(
	body: IDataObject,
	source: FieldSource = NODE_SOURCE,
): MessageDraft {
	return validated(body, ['CRM_ENTITY_TYPE', 'CRM_ENTITY', 'USER_ID', 'MESSAGE'], source);
}
