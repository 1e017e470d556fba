/** Argument checks with Bitrix24's ERROR_ARGUMENT codes and messages. */
import { Errors } from './envelope.cjs';
import {
	isRecord,
	parseInteger,
	scalarString,
	type ParamRecord,
	type ParamValue,
} from './params.cjs';
import { CRM_ENTITY_TYPES, type CrmEntityType } from './world.cjs';

/** PHP `empty()` after trim: missing, null, '', whitespace, false, or an empty array. */
export function isEmptyParam(value: ParamValue | undefined): boolean {
	if (value === undefined || value === null || value === false) return true;
	if (typeof value === 'string') return value.trim() === '';
	if (Array.isArray(value)) return value.length === 0;
	if (isRecord(value)) return Object.keys(value).length === 0;
	return false;
}

/** First missing name (in the given order) -> "Argument 'X' is null or empty". */
export function requirePresent(params: ParamRecord, names: readonly string[]): void {
	const missing = names.find((name) => isEmptyParam(params[name]));
	if (missing !== undefined) throw Errors.argumentEmpty(missing);
}

export function requireEntityType(params: ParamRecord, name = 'CRM_ENTITY_TYPE'): CrmEntityType {
	const text = scalarString(params[name])?.trim().toLowerCase();
	const type = CRM_ENTITY_TYPES.find((t) => t === text);
	if (type === undefined) throw Errors.argumentType(name);
	return type;
}

/** An integer > 0 given as a JSON number or a numeric string. */
export function requirePositiveId(params: ParamRecord, name: string): number {
	const id = parseInteger(params[name]);
	if (id === undefined || id <= 0) throw Errors.argumentType(name);
	return id;
}

/** Optional id: absent/empty -> undefined, otherwise it must be valid. */
export function optionalPositiveId(params: ParamRecord, name: string): number | undefined {
	return isEmptyParam(params[name]) ? undefined : requirePositiveId(params, name);
}

export function requireText(params: ParamRecord, name: string): string {
	const text = scalarString(params[name]);
	if (text === undefined) throw Errors.argumentType(name);
	return text;
}
