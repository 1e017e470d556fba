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

/** `a[b][]` -> ['a', 'b', '']; keys that are not PHP-bracket shaped stay literal. */
function splitPhpKey(key: string): string[] {
	const open = key.indexOf('[');
	if (open <= 0) return [key];
	const rest = key.slice(open);
	if (!/^(\[[^\]]*\])+$/.test(rest)) return [key];
	const segments = [key.slice(0, open)];
	for (const match of rest.matchAll(/\[([^\]]*)\]/g)) segments.push(match[1] ?? '');
	return segments;
}

/** PHP's `$a[] = x`: next integer key after the largest existing one. */
function nextIndex(record: ParamRecord): string {
	const numeric = Object.keys(record)
		.filter((k) => /^\d+$/.test(k))
		.map(Number);
	return String(numeric.length === 0 ? 0 : Math.max(...numeric) + 1);
}

function assignPhpKey(target: ParamRecord, key: string, value: string): void {
	const segments = splitPhpKey(key);
	let node = target;
	segments.forEach((segment, i) => {
		const name = segment === '' ? nextIndex(node) : segment;
		if (i === segments.length - 1) {
			node[name] = value;
			return;
		}
		const child = node[name];
		// PHP replaces a scalar with an array when a nested key follows.
		const next: ParamRecord = isRecord(child) ? child : {};
		node[name] = next;
		node = next;
	});
}

/** Parse `a=1&FILTER[FIND]=x` (also the part after `?` in batch commands). `+` means space, like PHP. */
export function parsePhpQuery(query: string): ParamRecord {
	const result: ParamRecord = {};
	for (const [key, value] of new URLSearchParams(query)) {
		if (key !== '') assignPhpKey(result, key, value);
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
