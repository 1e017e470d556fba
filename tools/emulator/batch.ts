/**
 * `batch` as rest/classes/general/rest_provider.php::methodsBatch runs it: up to 50 "method?php-query" commands
 * with the caller's credentials, in order, in one request (one against the rate limit). Always HTTP 200: a
 * failed command lands in result_error, every command over 50 gets ERROR_BATCH_LENGTH_EXCEEDED. Before a command
 * runs, its parameter values are rewritten with the answers of the commands before it
 * (rest_util.php::CRestUtil::ParseBatchQuery), whether the caller meant it or not.
 */
import { BATCH_MAX_COMMANDS } from './constants';
import type { CallContext, MethodOutcome } from './context';
import { Errors, phpArray } from './envelope';
import {
	entriesOf,
	isRecord,
	parsePhpQuery,
	PHP_WHITESPACE,
	phpIsNumeric,
	phpTruthy,
	type ParamRecord,
	type ParamValue,
} from './params';

export interface BatchCommand {
	method: string;
	params: ParamRecord;
}

/**
 * parse_url + parse_str: the path before `?` is the method (as written), the query after it (a `#` fragment cut
 * off, control characters turned into `_` as parse_url does) the parameters as parse_str reads them. This is also
 * how tests read what a batch asked for.
 */
export function parseBatchCommand(command: string): BatchCommand {
	const [beforeFragment = ''] = command.replace(/[\x00-\x1f\x7f]/g, '_').split('#');
	const q = beforeFragment.indexOf('?');
	const query = q === -1 ? '' : beforeFragment.slice(q + 1);
	return {
		method: q === -1 ? beforeFragment : beforeFragment.slice(0, q),
		params: phpTruthy(query) ? parsePhpQuery(query) : {},
	};
}

/** The answers so far by kind (`result`, `next`, `total`, `time`, `error`, then what failures add), each by command key. */
type Answers = Record<string, Record<string, unknown>>;

/** What PHP's isset($container[$key]) reaches: array keys (not null values), and a string's offsets. */
function isset(container: unknown, key: string): { value: unknown } | undefined {
	if (typeof container === 'string') {
		const offset = /^(0|-?[1-9]\d*)$/.test(key) ? Number(key) : NaN;
		const index = offset < 0 ? container.length + offset : offset;
		return index >= 0 && index < container.length ? { value: container[index] } : undefined;
	}
	if (Array.isArray(container) || isRecord(container)) {
		const value: unknown = Object.prototype.hasOwnProperty.call(container, key)
			? (container as Record<string, unknown>)[key]
			: undefined;
		return value === undefined || value === null ? undefined : { value };
	}
	return undefined;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * CRestUtil::processBatchElement: each `$<kind><run up to the next whitespace>` (kind any case) whose run holds
 * `[segment]`s is a path into the answers: the walk follows the segments while PHP's isset finds them (the kind is
 * looked up as written, so `$RESULT` finds nothing). A value that is all one match becomes whatever was reached
 * (a list, null, a number...). Inside text, a reached number or string replaces every copy of the match, trailing
 * punctuation of the run included ("Total: $result[c0]." becomes "Total: 123"); anything else leaves it. Percent-
 * encoding does not help (parse_str decoded it) and there is no escape.
 */
function substituted(value: string, answers: Answers): ParamValue {
	const kinds = Object.keys(answers).map(escapeRegExp).join('|');
	const reference = new RegExp(`\\$(${kinds})([^${PHP_WHITESPACE}]*)`, 'gi');
	let current: ParamValue = value;
	for (const [match, kind = '', run = ''] of value.matchAll(reference)) {
		const path = [...run.matchAll(/\[([^\]]+)\]/g)].map((segment) => segment[1] ?? '');
		if (path.length === 0) continue;
		let reached: unknown = Object.prototype.hasOwnProperty.call(answers, kind)
			? answers[kind]
			: null;
		for (const key of path) {
			const next = isset(reached, key);
			if (next === undefined) break;
			reached = next.value;
		}
		if (typeof current !== 'string') break;
		if (match === current) {
			current = (reached ?? null) as ParamValue;
			continue;
		}
		const text = phpIsNumeric(reached as ParamValue) ? String(reached) : reached;
		if (typeof text === 'string') current = current.split(match).join(text);
	}
	return current;
}

/**
 * processBatchStructure: every parameter value, nested ones included, is rewritten. Keys are scanned too, but
 * against no kinds, and parse_str leaves no `[...]` in a key: they never change.
 */
function substitutedParams(params: ParamRecord, answers: Answers): ParamRecord {
	return Object.fromEntries(
		Object.entries(params).map(([key, value]) => [
			key,
			isRecord(value)
				? substitutedParams(value, answers)
				: typeof value === 'string'
					? substituted(value, answers)
					: value,
		]),
	);
}

/** array_change_key_case(CASE_UPPER): `halt`, `Halt` and `HALT` are one key, the last one written winning. */
const upperCaseKeys = (params: ParamRecord): ParamRecord =>
	Object.fromEntries(Object.entries(params).map(([key, value]) => [key.toUpperCase(), value]));

export function batch(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const query = upperCaseKeys(params);
	// PHP truthiness: "false", "no" and "00" halt; 0, "0", "" and false do not.
	const halt = phpTruthy(query.HALT);
	const answers: Answers = { result: {}, next: {}, total: {}, time: {}, error: {} };
	let count = 0;
	for (const [key, call] of entriesOf(query.CMD)) {
		let response: Record<string, unknown>;
		if (count++ < BATCH_MAX_COMMANDS) {
			// A command that is not text is skipped, yet counted.
			if (typeof call !== 'string') continue;
			const { method, params: commandParams } = parseBatchCommand(call);
			response = ctx.invoke(method, substitutedParams(commandParams, answers));
		} else {
			response = { ...Errors.batchLength().body() };
		}
		// A failure's whole body goes under `error`; its other keys (error_description, argument) become kinds
		// that later commands' references can reach.
		const failed = phpTruthy(response.error as ParamValue);
		const parts = 'error' in response ? { ...response, error: response } : response;
		for (const [kind, value] of Object.entries(parts)) (answers[kind] ??= {})[key] = value;
		if (failed && halt) break;
	}
	return {
		result: {
			result: phpArray(answers.result ?? {}),
			result_error: phpArray(answers.error ?? {}),
			result_total: phpArray(answers.total ?? {}),
			result_next: phpArray(answers.next ?? {}),
			result_time: phpArray(answers.time ?? {}),
		},
	};
}
