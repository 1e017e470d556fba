/**
 * Request parameters the way Bitrix24 (PHP) sees them: query string and body merged (body wins),
 * PHP-style nested keys (`FILTER[FIND]=x`, `cmd[a]=...`, `ids[]=1`) turned into nested records.
 */

export type ParamValue = string | number | boolean | null | ParamValue[] | ParamRecord;
export interface ParamRecord {
	[key: string]: ParamValue;
}

export type BodyKind = 'none' | 'json' | 'form' | 'invalid-json';

export interface ParsedBody {
	params: ParamRecord;
	kind: BodyKind;
}

export function isRecord(value: unknown): value is ParamRecord {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** php.ini's defaults: parse_str reads at most this many pairs, and brackets at most this deep. */
export const PHP_MAX_INPUT_VARS = 1000;
export const PHP_MAX_INPUT_NESTING_LEVEL = 64;

/** C's isspace: space, \t, \n, \v, \f, \r. */
const C_SPACE = /^[ \t\n\v\f\r]$/;

/** php_url_decode: `+` is a space, `%XX` a byte, anything else itself; the bytes read as UTF-8. */
function phpUrlDecode(text: string): string {
	const bytes = Buffer.from(text.replace(/\+/g, ' '), 'utf8');
	const out: number[] = [];
	for (let i = 0; i < bytes.length; i++) {
		const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
		if (bytes[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
			out.push(parseInt(hex, 16));
			i += 2;
		} else {
			out.push(bytes[i] ?? 0);
		}
	}
	return Buffer.from(out).toString('utf8');
}

/** An own property, `__proto__` included. */
function ownValue(record: ParamRecord, key: string): ParamValue | undefined {
	return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

function setOwn(record: ParamRecord, key: string, value: ParamValue): void {
	Object.defineProperty(record, key, {
		value,
		enumerable: true,
		writable: true,
		configurable: true,
	});
}

/** PHP's `$a[] = x`: the largest integer key plus one, 0 without one. */
function nextIndex(record: ParamRecord): string {
	const numeric = Object.keys(record)
		.filter((key) => /^(0|-?[1-9]\d*)$/.test(key))
		.map(Number);
	return String(numeric.length === 0 ? 0 : Math.max(...numeric) + 1);
}

/** A decoded key as PHP reads it: the parameter's name, its bracketed keys (null for "next index"). */
interface PhpKeyPath {
	name: string;
	keys: Array<string | null>;
	/** Nested deeper than max_input_nesting_level: PHP deletes the whole parameter instead. */
	tooDeep?: true;
}

/** main/php_variables.c::php_register_variable_ex; undefined when PHP drops the pair (an empty name). */
function phpKeyPath(decoded: string): PhpKeyPath | undefined {
	// C strings: the name ends at its first NUL. Leading spaces are skipped.
	const text = (decoded.split('\0')[0] ?? '').replace(/^ +/, '');
	const open = text.indexOf('[');
	// A variable's name has no spaces or dots.
	let name = (open === -1 ? text : text.slice(0, open)).replace(/[ .]/g, '_');
	if (name === '') return undefined;
	const keys: Array<string | null> = [];
	if (open === -1) return { name, keys };
	let at = open;
	while (text[at] === '[') {
		if (keys.length === PHP_MAX_INPUT_NESTING_LEVEL) return { name, keys, tooDeep: true };
		const start = at + 1;
		// `[]` or `[` + one whitespace + `]`: next index.
		const empty =
			text[start] === ']' || (C_SPACE.test(text[start] ?? '') && text[start + 1] === ']');
		const close = empty ? text.indexOf(']', start) : text.indexOf(']', start + 1);
		if (close === -1) {
			// Not an index: that `[` becomes `_` of a plain name when it is the first; later, the rest is dropped.
			if (keys.length === 0) name = `${name}_${text.slice(start).replace(/[ .[]/g, '_')}`;
			break;
		}
		keys.push(empty ? null : text.slice(start, close));
		// Whatever follows a `]` other than `[` is dropped.
		at = close + 1;
	}
	return { name, keys };
}

/** Stores one pair: `$result[name][k1][k2] = value`, a scalar on the way replaced with an array. */
function register(
	result: ParamRecord,
	name: string,
	keys: Array<string | null>,
	value: string,
): void {
	let node = result;
	let key = name;
	for (const next of keys) {
		const child = ownValue(node, key);
		const array: ParamRecord = isRecord(child) ? child : {};
		setOwn(node, key, array);
		node = array;
		key = next ?? nextIndex(node);
	}
	setOwn(node, key, value);
}

/**
 * PHP's parse_str (and how PHP reads a query string or form body): pairs split at `&` (empty ones skipped), at most
 * max_input_vars of them; key and value url-decoded (`+` is a space) before the key's brackets are read, so `%5B` is
 * `[`; a NUL ends a key; a parameter's name loses leading spaces and has spaces and dots turned into `_`; `[]` and
 * `[ ]` are the next index; a name nested deeper than max_input_nesting_level drops the whole parameter.
 */
export function parsePhpQuery(query: string): ParamRecord {
	const result: ParamRecord = {};
	const pairs = query.split('&').filter((pair) => pair !== '');
	for (const pair of pairs.slice(0, PHP_MAX_INPUT_VARS)) {
		const eq = pair.indexOf('=');
		const path = phpKeyPath(phpUrlDecode(eq === -1 ? pair : pair.slice(0, eq)));
		if (path?.tooDeep) delete result[path.name];
		else if (path)
			register(result, path.name, path.keys, eq === -1 ? '' : phpUrlDecode(pair.slice(eq + 1)));
	}
	return result;
}

/**
 * A JSON body: an object (or a list, which PHP decodes to an array keyed 0..n-1) gives the params; anything else,
 * or invalid JSON, gives none (main/lib/httprequest.php::decodeJsonStrict throws, CRestUtil::getRequestData
 * swallows it and keeps the query alone).
 */
function parseJsonBody(raw: string): ParsedBody {
	try {
		const parsed: unknown = JSON.parse(raw);
		if (isRecord(parsed)) return { params: parsed, kind: 'json' };
		if (Array.isArray(parsed))
			return {
				params: Object.fromEntries(parsed.map((v: ParamValue, i) => [String(i), v])),
				kind: 'json',
			};
		return { params: {}, kind: 'invalid-json' };
	} catch {
		return { params: {}, kind: 'invalid-json' };
	}
}

/** HttpRequest::isJson: the media type (lower case, parameters cut) is exactly application/json or has +json. */
function isJsonMediaType(contentType: string | undefined): boolean {
	const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
	return mediaType === 'application/json' || mediaType.includes('+json');
}

/**
 * The body as CRestUtil::getRequestData reads it: only for POST; JSON when the media type says so, otherwise
 * parse_str of the raw body (what PHP's form parsing gives for urlencoded bodies; multipart is not modelled).
 */
export function parseBody(
	raw: string,
	contentType: string | undefined,
	httpMethod: string,
): ParsedBody {
	if (httpMethod.toUpperCase() !== 'POST' || raw.trim() === '') return { params: {}, kind: 'none' };
	return isJsonMediaType(contentType)
		? parseJsonBody(raw)
		: { params: parsePhpQuery(raw.trim()), kind: 'form' };
}

/** Query and body merged at the top level; the body wins. */
export function mergeParams(query: ParamRecord, body: ParamRecord): ParamRecord {
	return { ...query, ...body };
}

/** Case-sensitive lookup helper tolerant of JSON arrays as PHP lists. */
export function entriesOf(value: ParamValue | undefined): Array<[string, ParamValue]> {
	if (Array.isArray(value)) return value.map((v, i) => [String(i), v]);
	return isRecord(value) ? Object.entries(value) : [];
}

/** Scalar param as PHP would read it (`(string)$x`), or undefined for missing/null/containers. */
export function scalarString(value: ParamValue | undefined): string | undefined {
	if (typeof value === 'string') return value;
	if (typeof value === 'number') return String(value);
	if (typeof value === 'boolean') return value ? '1' : '';
	return undefined;
}

/** Integer from a JSON number or a numeric string; undefined when it does not look like one. */
export function parseInteger(value: ParamValue | undefined): number | undefined {
	if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
	if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) {
		const n = Number(value.trim());
		return Number.isSafeInteger(n) ? n : undefined;
	}
	return undefined;
}

/** Bitrix24 truthy flags: Y / true / 1 (any case). */
export function parseFlag(value: ParamValue | undefined): boolean | undefined {
	if (typeof value === 'boolean') return value;
	const text = scalarString(value)?.trim().toUpperCase();
	if (text === undefined || text === '') return undefined;
	return ['Y', 'TRUE', '1'].includes(text);
}

/** PHP's whitespace in is_numeric and in PCRE's \s without the u flag: space, \t, \n, \v, \f, \r. */
export const PHP_WHITESPACE = ' \t\n\v\f\r';

const NUMERIC_STRING = new RegExp(
	`^[${PHP_WHITESPACE}]*[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?[${PHP_WHITESPACE}]*$`,
);
const LEADING_NUMBER = new RegExp(
	`^[${PHP_WHITESPACE}]*([+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?)`,
);

/** PHP 8's is_numeric: numbers, and strings like " 12", "1.5", "1e3" (not "0x1A", "12abc", "", true). */
export function phpIsNumeric(value: ParamValue | undefined): boolean {
	if (typeof value === 'number') return Number.isFinite(value);
	return typeof value === 'string' && NUMERIC_STRING.test(value);
}

/** PHP's (int) cast: "1.9" -> 1, "1e3" -> 1000, "12abc" -> 12, "abc" -> 0, true -> 1, a non-empty array -> 1. */
export function phpInt(value: ParamValue | undefined): number {
	if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
	if (typeof value === 'boolean') return value ? 1 : 0;
	if (typeof value === 'string') {
		const match = LEADING_NUMBER.exec(value);
		return match?.[1] === undefined ? 0 : Math.trunc(Number(match[1])) || 0;
	}
	if (Array.isArray(value)) return value.length > 0 ? 1 : 0;
	return isRecord(value) && Object.keys(value).length > 0 ? 1 : 0;
}

/**
 * PHP's truthiness (and `empty()` is its negation): false for missing, null, false, 0, "", "0" and an empty
 * array; true for everything else, "false", "no", "00" and " 0" included.
 */
export function phpTruthy(value: ParamValue | undefined): boolean {
	if (value === undefined || value === null || value === false) return false;
	if (typeof value === 'number') return value !== 0;
	if (typeof value === 'string') return value !== '' && value !== '0';
	if (Array.isArray(value)) return value.length > 0;
	return value === true || Object.keys(value).length > 0;
}
