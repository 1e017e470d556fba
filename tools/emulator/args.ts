/** Argument checks as imopenlines/lib/rest.php makes them, with Bitrix24's ERROR_ARGUMENT codes and messages. */
import { Errors } from './envelope';
import {
	phpInt,
	phpIsNumeric,
	phpTruthy,
	scalarString,
	type ParamRecord,
	type ParamValue,
} from './params';

/**
 * `if (empty($arParams[X])) throw new ArgumentNullException(X)`: "Argument 'X' is null or empty". PHP's empty() is
 * true for missing, null, false, 0, "", "0" and an empty array; whitespace is not empty.
 */
export function requireNotEmpty(params: ParamRecord, name: string): ParamValue {
	const value = params[name];
	if (value === undefined || !phpTruthy(value)) throw Errors.argumentEmpty(name);
	return value;
}

/**
 * An ID as the server checks one: not empty ("null or empty"), then `is_numeric` and `(int) > 0` ("invalid type");
 * the value is the (int) cast, so "1.9" is 1 and " 12" is 12.
 */
export function requireId(params: ParamRecord, name: string): number {
	const value = requireNotEmpty(params, name);
	const id = phpInt(value);
	if (!phpIsNumeric(value) || id <= 0) throw Errors.argumentType(name);
	return id;
}

/** A parameter read as text (CRM_ENTITY_TYPE is never validated as such: lookups resolve it, or find nothing). */
export const textOf = (value: ParamValue | undefined): string => scalarString(value) ?? '';
