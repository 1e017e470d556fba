import type { IDataObject } from 'n8n-workflow';

import { isObject } from '../../../shared/json';
import { LONE_SURROGATE } from '../../../shared/validation';
import { invalidField } from './validation';

/** Links Bitrix24 accepts in attachments and keyboards: absolute http(s) or a path on the portal. */
export const LINK = /^(https?:\/\/\S+|\/\S*)$/i;

/** Bitrix24 refuses an attachment whose serialized form is longer (ATTACH_OVERSIZE). */
export const MAX_ATTACH_LENGTH = 60_000;

const FIELD = 'Attachment (JSON)';
const ARGUMENT = 'attach';

/**
 * The block types of an attachment (attachments/block-collections/*.md): whether the value is text, one object or a
 * list of objects, the fields an object may have (upper case), the field it needs, the fields that are links, and
 * fields with fixed values.
 */
export interface BlockRule {
	form: 'text' | 'object' | 'list';
	fields?: string[];
	required?: string;
	links?: string[];
	choices?: Record<string, string[]>;
}

export const BLOCK_RULES: Readonly<Record<string, BlockRule>> = {
	MESSAGE: { form: 'text' },
	LINK: {
		form: 'object',
		fields: [
			'LINK',
			'NAME',
			'DESC',
			'HTML',
			'PREVIEW',
			'WIDTH',
			'HEIGHT',
			'USER_ID',
			'CHAT_ID',
			'NETWORK_ID',
		],
		required: 'LINK',
		links: ['LINK', 'PREVIEW'],
	},
	USER: {
		form: 'object',
		fields: ['NAME', 'AVATAR', 'LINK', 'USER_ID', 'CHAT_ID', 'BOT_ID', 'NETWORK_ID', 'AVATAR_TYPE'],
		required: 'NAME',
		links: ['AVATAR', 'LINK'],
	},
	GRID: {
		form: 'list',
		fields: [
			'DISPLAY',
			'NAME',
			'VALUE',
			'WIDTH',
			'HEIGHT',
			'COLOR_TOKEN',
			'COLOR',
			'LINK',
			'USER_ID',
			'CHAT_ID',
		],
		required: 'DISPLAY',
		links: ['LINK'],
		choices: { DISPLAY: ['BLOCK', 'LINE', 'ROW', 'TABLE'] },
	},
	IMAGE: {
		form: 'list',
		fields: ['LINK', 'NAME', 'PREVIEW', 'WIDTH', 'HEIGHT'],
		required: 'LINK',
		links: ['LINK', 'PREVIEW'],
	},
	FILE: { form: 'list', fields: ['LINK', 'NAME', 'SIZE'], required: 'LINK', links: ['LINK'] },
	DELIMITER: { form: 'object', fields: ['SIZE', 'COLOR'] },
};

/** The keys of the full form; anything else is most likely a typo (Bitrix24 reads upper-case keys only). */
const ATTACH_KEYS = ['ID', 'COLOR_TOKEN', 'COLOR', 'BLOCKS'];
const COLOR_TOKENS = ['primary', 'secondary', 'alert', 'base'];

const fail = (problem: string) => invalidField(FIELD, ARGUMENT, problem);
const quoted = (value: unknown) => {
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

/**
 * A copy without null values: PHP's isset reads null as absent, and a batch command could only write it as the
 * text "null".
 */
function withoutNulls(value: unknown): unknown {
	if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls);
	if (isObject(value))
		return Object.fromEntries(
			Object.entries(value)
				.filter(([, v]) => v !== null)
				.map(([k, v]) => [k, withoutNulls(v)]),
		);
	return value;
}

/**
 * A field's value: text or a number, as Bitrix24 documents every field (a list or object there would also reach it
 * as parameters of their own), and whole characters.
 */
function checkValue(value: unknown, at: string): void {
	if (typeof value === 'number' && Number.isFinite(value)) return;
	if (typeof value !== 'string')
		throw fail(`is invalid at ${at}: expected text or a number, got ${quoted(value)}`);
	const broken = LONE_SURROGATE.exec(value);
	if (broken)
		throw fail(
			`is invalid at ${at}: has half of an emoji or other character at position ${broken.index + 1} (the text was probably cut inside it)`,
		);
}

function checkObject(entry: unknown, type: string, rule: BlockRule, path: string): void {
	if (!isObject(entry))
		throw fail(`is invalid at ${path}: expected an object, got ${quoted(entry)}`);
	const fields = rule.fields ?? [];
	const unknown = Object.keys(entry).find((key) => !fields.includes(key));
	if (unknown !== undefined)
		throw fail(
			`is invalid at ${path}: unknown key ${quoted(unknown)} (the fields of ${type}: ${fields.join(', ')}; upper case)`,
		);
	for (const [key, value] of Object.entries(entry)) checkValue(value, `${path}.${key}`);
	if (rule.required !== undefined) {
		const value = entry[rule.required];
		if (value === undefined) throw fail(`is invalid at ${path}: ${rule.required} is required`);
		if (String(value).trim() === '') throw fail(`is invalid at ${path}: ${rule.required} is empty`);
	}
	for (const key of rule.links ?? []) {
		const value = entry[key];
		if (value !== undefined && !(typeof value === 'string' && LINK.test(value.trim())))
			throw fail(
				`is invalid at ${path}.${key}: needs a link starting with https://, http:// or /, but got ${quoted(value)}`,
			);
	}
	for (const [key, allowed] of Object.entries(rule.choices ?? {})) {
		const value = entry[key];
		if (value !== undefined && !allowed.includes(String(value)))
			throw fail(
				`is invalid at ${path}.${key}: must be one of ${allowed.join(', ')}, but got ${quoted(value)}`,
			);
	}
}

function checkBlock(block: unknown, path: string): void {
	const keys = isObject(block) ? Object.keys(block) : [];
	if (!isObject(block) || keys.length !== 1)
		throw fail(
			`is invalid at ${path}: each block is an object with exactly one key (${Object.keys(BLOCK_RULES).join(', ')}), but got ${quoted(block)}`,
		);
	const [type] = keys;
	const rule = BLOCK_RULES[type];
	if (rule === undefined)
		throw fail(
			`is invalid at ${path}: unknown block type ${quoted(type)} (Bitrix24 knows ${Object.keys(BLOCK_RULES).join(', ')})`,
		);
	const value = block[type];
	const at = `${path}.${type}`;
	if (rule.form === 'text') {
		if (typeof value !== 'string' || value.trim() === '')
			throw fail(`is invalid at ${at}: expected text, got ${quoted(value)}`);
		return checkValue(value, at);
	}
	if (rule.form === 'object') return checkObject(value, type, rule, at);
	if (!Array.isArray(value) || value.length === 0)
		throw fail(`is invalid at ${at}: expected a list of objects, got ${quoted(value)}`);
	value.forEach((entry, index) => checkObject(entry, type, rule, `${at}[${index}]`));
}

/**
 * PHP's serialize(), as Bitrix24 stores message parameters: its length (in characters) is what the 60,000 limit
 * counts. Strings carry their UTF-8 byte length; list indexes and numeric keys are integers.
 */
export function phpSerialized(value: unknown): string {
	if (typeof value === 'string') return `s:${new TextEncoder().encode(value).length}:"${value}";`;
	if (typeof value === 'number')
		return Number.isInteger(value) ? `i:${value};` : `d:${String(value)};`;
	if (typeof value === 'boolean') return `b:${value ? 1 : 0};`;
	if (value === null || value === undefined) return 'N;';
	const entries = Object.entries(value as IDataObject);
	const key = (name: string) =>
		/^(0|-?[1-9]\d*)$/.test(name) ? `i:${name};` : phpSerialized(name);
	return `a:${entries.length}:{${entries.map(([name, item]) => key(name) + phpSerialized(item)).join('')}}`;
}

/**
 * The item's attachment (`fields.attach`), checked as Bitrix24 checks it: Bitrix24's full form (ID, COLOR_TOKEN,
 * COLOR, BLOCKS) or a bare list of blocks, given as JSON text or an object from an expression; each block one of
 * the documented types with its required fields, links absolute http(s) or root-relative, and at most 60,000
 * characters serialized. Undefined when the field is empty. Errors name the field and where in the JSON.
 */
export function attachmentOf(parameter: unknown): IDataObject | IDataObject[] | undefined {
	let value = parameter;
	if (typeof value === 'string') {
		if (value.trim() === '') return undefined;
		try {
			value = JSON.parse(value) as unknown;
		} catch (error) {
			throw fail(`is not valid JSON: ${(error as Error).message}`);
		}
	}
	value = withoutNulls(value);
	if (value === undefined || value === null) return undefined;
	if (Array.isArray(value) && value.length === 0) return undefined;
	if (isObject(value) && Object.keys(value).length === 0) return undefined;
	let blocks: unknown;
	if (Array.isArray(value)) {
		blocks = value;
	} else if (isObject(value)) {
		const unknown = Object.keys(value).find((key) => !ATTACH_KEYS.includes(key));
		if (unknown !== undefined)
			throw fail(
				`has an unknown key ${quoted(unknown)}: an attachment is a list of blocks or an object with ${ATTACH_KEYS.join(', ')} (upper case)`,
			);
		for (const [key, item] of Object.entries(value)) if (key !== 'BLOCKS') checkValue(item, key);
		if (value.COLOR_TOKEN !== undefined && !COLOR_TOKENS.includes(String(value.COLOR_TOKEN)))
			throw fail(
				`is invalid at COLOR_TOKEN: must be one of ${COLOR_TOKENS.join(', ')}, but got ${quoted(value.COLOR_TOKEN)}`,
			);
		blocks = value.BLOCKS;
	} else {
		throw fail(`must be a JSON object or list of blocks, but got ${quoted(value)}`);
	}
	if (!Array.isArray(blocks) || blocks.length === 0)
		throw fail('has no blocks: BLOCKS must be a list of at least one block');
	const prefix = Array.isArray(value) ? '' : 'BLOCKS';
	blocks.forEach((block, index) => checkBlock(block, `${prefix}[${index}]`));
	// Bitrix24 stores the full form; a bare list is its BLOCKS.
	const stored = Array.isArray(value) ? { BLOCKS: value } : value;
	const length = Array.from(phpSerialized(stored)).length;
	if (length > MAX_ATTACH_LENGTH)
		throw fail(
			`is ${length.toLocaleString('en-US')} characters long as Bitrix24 stores it; Bitrix24 accepts at most ${MAX_ATTACH_LENGTH.toLocaleString('en-US')} (ATTACH_OVERSIZE)`,
		);
	return value as IDataObject | IDataObject[];
}
