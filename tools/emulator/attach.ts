/**
 * `fields.attach` of imbot.v2.Chat.Message.send as ../shared/docs/bitrix24-bots.md §5.2 describes it
 * (messages/attachments/index.md, block-collections/*.md): the full form {ID, COLOR_TOKEN, COLOR, BLOCKS} or a bare
 * list of blocks, as JSON text or nested parameters; every block an object with one known key and its required
 * fields, links absolute http(s) or root-relative. Anything else is ATTACH_ERROR; more than 60,000 characters of
 * PHP serialize() output (how Bitrix24 stores message parameters) is ATTACH_OVERSIZE.
 */
import { RestError } from './envelope';
import { isRecord, type ParamRecord, type ParamValue } from './params';

export const ATTACH_MAX_LENGTH = 60_000;

const LINK = /^(https?:\/\/\S+|\/\S*)$/i;

/** Per block type: text, one object or a list of objects; the field each object needs; its link fields. */
const BLOCKS: Record<
	string,
	{ form: 'text' | 'object' | 'list'; needs?: string; links: string[] }
> = {
	MESSAGE: { form: 'text', links: [] },
	LINK: { form: 'object', needs: 'LINK', links: ['LINK', 'PREVIEW'] },
	USER: { form: 'object', needs: 'NAME', links: ['AVATAR', 'LINK'] },
	GRID: { form: 'list', needs: 'DISPLAY', links: ['LINK'] },
	IMAGE: { form: 'list', needs: 'LINK', links: ['LINK', 'PREVIEW'] },
	FILE: { form: 'list', needs: 'LINK', links: ['LINK'] },
	DELIMITER: { form: 'object', links: [] },
};
const GRID_DISPLAYS = ['BLOCK', 'LINE', 'ROW', 'TABLE'];

const attachError = () => new RestError(400, 'ATTACH_ERROR', 'Incorrect attach params');

/** parse_str turns a list into a record keyed 0, 1, ...: the list again, so both transports store one shape. */
function normalized(value: ParamValue): ParamValue {
	if (Array.isArray(value)) return value.map(normalized);
	if (!isRecord(value)) return value;
	const keys = Object.keys(value);
	if (keys.length > 0 && keys.every((key, index) => key === String(index)))
		return keys.map((key) => normalized(value[key]));
	return Object.fromEntries(keys.map((key) => [key, normalized(value[key])]));
}

function objectOk(entry: ParamValue, needs: string | undefined, links: string[]): boolean {
	if (!isRecord(entry)) return false;
	if (needs !== undefined && String(entry[needs] ?? '').trim() === '') return false;
	if (needs === 'DISPLAY' && !GRID_DISPLAYS.includes(String(entry.DISPLAY))) return false;
	return links.every((key) => entry[key] === undefined || LINK.test(String(entry[key]).trim()));
}

function blockOk(block: ParamValue): boolean {
	if (!isRecord(block) || Object.keys(block).length !== 1) return false;
	const [type] = Object.keys(block);
	const rule = BLOCKS[type];
	const value = block[type];
	if (rule === undefined) return false;
	if (rule.form === 'text') return typeof value === 'string' && value.trim() !== '';
	if (rule.form === 'object') return objectOk(value, rule.needs, rule.links);
	return (
		Array.isArray(value) &&
		value.length > 0 &&
		value.every((entry) => objectOk(entry, rule.needs, rule.links))
	);
}

/** PHP's serialize(): strings carry their UTF-8 byte length, list indexes are integers. */
function phpSerialized(value: ParamValue | undefined): string {
	if (typeof value === 'string') return `s:${Buffer.byteLength(value)}:"${value}";`;
	if (typeof value === 'number')
		return Number.isInteger(value) ? `i:${value};` : `d:${String(value)};`;
	if (typeof value === 'boolean') return `b:${value ? 1 : 0};`;
	if (value === null || value === undefined) return 'N;';
	const entries = Array.isArray(value)
		? value.map((item, index) => [`i:${index};`, item] as const)
		: Object.entries(value).map(([key, item]) => [phpSerialized(key), item] as const);
	return `a:${entries.length}:{${entries.map(([key, item]) => key + phpSerialized(item)).join('')}}`;
}

/**
 * The attachment as Bitrix24 stores it with the message (full form), or ATTACH_ERROR / ATTACH_OVERSIZE.
 * JSON text is decoded first (CUtil::JsObjectToPhp).
 */
export function attachOf(raw: ParamValue): ParamRecord {
	let value: ParamValue = raw;
	if (typeof value === 'string') {
		try {
			value = JSON.parse(value) as ParamValue;
		} catch {
			throw attachError();
		}
	}
	value = normalized(value);
	const stored: ParamValue = Array.isArray(value) ? { BLOCKS: value } : value;
	if (!isRecord(stored) || !Array.isArray(stored.BLOCKS) || stored.BLOCKS.length === 0)
		throw attachError();
	if (!stored.BLOCKS.every(blockOk)) throw attachError();
	if (Array.from(phpSerialized(stored)).length > ATTACH_MAX_LENGTH)
		throw new RestError(
			400,
			'ATTACH_OVERSIZE',
			'You have exceeded the maximum allowable size of attach',
		);
	return stored;
}
