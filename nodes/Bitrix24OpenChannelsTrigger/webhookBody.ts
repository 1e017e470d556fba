import type { IDataObject } from 'n8n-workflow';

import { isObject } from '../shared/json';

/**
 * The most a delivery may weigh. Bitrix24 caps a message at 20,000 characters and an attachment at 60,000 as
 * stored; percent-encoded with their bracketed keys, a real event stays well below this.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Fields and nesting a real event never comes near; beyond them parsing would only cost the process time. */
const MAX_FIELDS = 20_000;
const MAX_DEPTH = 16;

/** Keys that would reach into Object.prototype when followed: a body holding one is refused outright. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A body, or why it is refused (the HTTP status to answer and a sentence for the sender). */
export type ParsedBody = { body: IDataObject } | { refused: 400 | 413 | 415; reason: string };

const refuse = (refused: 400 | 413 | 415, reason: string): ParsedBody => ({ refused, reason });

/** `data[bot][id]` -> ['data', 'bot', 'id']; undefined when the key is not PHP's bracket form. */
function segmentsOf(key: string): string[] | undefined {
	const path = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(key);
	if (path === null) return undefined;
	return [path[1], ...[...path[2].matchAll(/\[([^\]]*)\]/g)].map((match) => match[1])];
}

/**
 * A form body (PHP's http_build_query: `data%5Bbot%5D%5Bid%5D=456&...`) as the nested object it was built from.
 * Every field is kept (n8n's own parser keeps the first 1,000: Bitrix24 puts `auth[...]` last, after a large
 * attachment's fields), and no key can walk into a prototype.
 */
function nestForm(text: string): ParsedBody {
	const nested: IDataObject = {};
	let fields = 0;
	for (const [key, value] of new URLSearchParams(text)) {
		if (++fields > MAX_FIELDS) return refuse(413, `more than ${MAX_FIELDS} form fields`);
		const segments = segmentsOf(key) ?? [key];
		if (segments.length > MAX_DEPTH) return refuse(400, 'form keys nested too deep');
		if (segments.some((segment) => FORBIDDEN_KEYS.has(segment)))
			return refuse(400, 'a form key names an object prototype');
		let node = nested;
		for (const [index, segment] of segments.entries()) {
			if (index === segments.length - 1) {
				node[segment] = value;
				break;
			}
			if (!Object.prototype.hasOwnProperty.call(node, segment) || !isObject(node[segment]))
				node[segment] = {};
			node = node[segment] as IDataObject;
		}
	}
	return { body: nested };
}

/** A JSON body's keys, checked like a form's before anything reads it. */
function hasForbiddenKey(value: unknown, depth = 0): boolean {
	if (depth > MAX_DEPTH) return true;
	if (Array.isArray(value)) return value.some((item) => hasForbiddenKey(item, depth + 1));
	if (!isObject(value)) return false;
	return Object.keys(value).some(
		(key) => FORBIDDEN_KEYS.has(key) || hasForbiddenKey(value[key], depth + 1),
	);
}

/**
 * The webhook's body from the request's raw bytes, parsed here rather than by n8n (whose form parser drops
 * fields past 1,000), after the request proved its URL secret. Form or JSON (§7 Q2 of the bot notes).
 */
export function parseWebhookBody(raw: Buffer | undefined, contentType: string): ParsedBody {
	if (raw === undefined) return refuse(400, 'the request has no body');
	if (raw.length > MAX_BODY_BYTES)
		return refuse(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
	const type = contentType.split(';')[0].trim().toLowerCase();
	const text = raw.toString('utf8');
	if (type === 'application/x-www-form-urlencoded') return nestForm(text);
	if (type !== 'application/json')
		return refuse(415, 'the body must be a form (application/x-www-form-urlencoded) or JSON');
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		return refuse(400, 'the body is not valid JSON');
	}
	if (!isObject(body)) return refuse(400, 'the body is not a JSON object');
	if (hasForbiddenKey(body)) return refuse(400, 'a JSON key names an object prototype');
	return { body };
}
