/**
 * Request parameters the way Bitrix24 (PHP) sees them: query string and body merged (body wins),
 * PHP-style nested keys (`FILTER[FIND]=x`, `cmd[a]=...`, `ids[]=1`) turned into nested records.
 */

export type ParamValue = string | number | boolean | null | ParamValue[] | ParamRecord;
export interface ParamRecord {
	[key: string]: ParamValue;
}

export type BodyKind = 'none' | 'json' | 'form' | 'invalid-json' | 'unsupported';

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

/** JSON values become params as-is; non-object JSON documents carry no params (PHP ignores them). */
function parseJsonBody(raw: string): ParsedBody {
	try {
		const parsed: unknown = JSON.parse(raw);
		return isRecord(parsed)
			? { params: parsed, kind: 'json' }
			: { params: {}, kind: 'invalid-json' };
	} catch {
		return { params: {}, kind: 'invalid-json' };
	}
}

const BODY_PARSERS: ReadonlyArray<{ match: RegExp; parse: (raw: string) => ParsedBody }> = [
	{ match: /json/i, parse: parseJsonBody },
	{
		match: /x-www-form-urlencoded/i,
		parse: (raw) => ({ params: parsePhpQuery(raw), kind: 'form' }),
	},
];

export function parseBody(raw: string, contentType: string | undefined): ParsedBody {
	if (raw.trim() === '') return { params: {}, kind: 'none' };
	const parser = BODY_PARSERS.find((p) => p.match.test(contentType ?? ''));
	return parser ? parser.parse(raw) : { params: {}, kind: 'unsupported' };
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
