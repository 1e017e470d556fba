import type { IDataObject } from 'n8n-workflow';

/** A JSON object (not a list, not null): the shape of Bitrix24's envelopes and records. */
export function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
