/**
 * `batch`: up to 50 "method?php-query" commands run with the caller's credentials. Always HTTP 200;
 * per-command failures land in result_error. Counts as one request against the rate limit.
 */
import { BATCH_MAX_COMMANDS } from './constants.cjs';
import type { CallContext, MethodOutcome } from './context.cjs';
import { Errors, phpArray, RestError, timeInfo, type TimeInfo } from './envelope.cjs';
import { entriesOf, parseFlag, parsePhpQuery, scalarString, type ParamRecord } from './params.cjs';

export interface BatchCommand {
	method: string;
	params: ParamRecord;
}

/** `imopenlines.crm.message.add?CRM_ENTITY=1195&MESSAGE=Hi%20%26%20bye` -> method + decoded params. */
export function parseBatchCommand(command: string): BatchCommand {
	const q = command.indexOf('?');
	const method = (q === -1 ? command : command.slice(0, q)).trim();
	return { method, params: q === -1 ? {} : parsePhpQuery(command.slice(q + 1)) };
}

export function batch(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const commands = entriesOf(params.cmd);
	if (commands.length > BATCH_MAX_COMMANDS) throw Errors.batchLength();
	const halt = parseFlag(params.halt) === true;

	const results: Record<string, unknown> = {};
	const errors: Record<string, unknown> = {};
	const totals: Record<string, unknown> = {};
	const nexts: Record<string, unknown> = {};
	const times: Record<string, TimeInfo> = {};

	for (const [key, value] of commands) {
		const { method, params: subParams } = parseBatchCommand(scalarString(value) ?? '');
		const started = ctx.now();
		try {
			const outcome = ctx.invoke(method, subParams);
			results[key] = outcome.result;
			if (outcome.total !== undefined) totals[key] = outcome.total;
			if (outcome.next !== undefined) nexts[key] = outcome.next;
			times[key] = timeInfo(started, ctx.now(), ctx.operatingResetAt(method));
		} catch (error: unknown) {
			if (!(error instanceof RestError)) throw error;
			errors[key] = error.body();
			if (halt) break;
		}
	}

	return {
		result: {
			result: phpArray(results),
			result_error: phpArray(errors),
			result_total: phpArray(totals),
			result_next: phpArray(nexts),
			result_time: phpArray(times),
		},
	};
}
