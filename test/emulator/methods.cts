/** The REST method table (names lower-case: Bitrix24 matches method names case-insensitively). */
import { batch } from './batch.cjs';
import type { CallContext, MethodOutcome, MethodSpec } from './context.cjs';
import { DIRECTORY_METHODS } from './directory.cjs';
import { Errors } from './envelope.cjs';
import { OPENLINES_METHODS } from './openlines.cjs';
import type { ParamRecord } from './params.cjs';

export const METHODS: Readonly<Record<string, MethodSpec>> = {
	'imopenlines.crm.message.add': {
		scope: 'imopenlines',
		handler: OPENLINES_METHODS['imopenlines.crm.message.add'],
	},
	'imopenlines.crm.chat.get': {
		scope: 'imopenlines',
		handler: OPENLINES_METHODS['imopenlines.crm.chat.get'],
	},
	'imopenlines.crm.chat.getlastid': {
		scope: 'imopenlines',
		handler: OPENLINES_METHODS['imopenlines.crm.chat.getlastid'],
	},
	'imopenlines.crm.chat.user.add': {
		scope: 'imopenlines',
		handler: OPENLINES_METHODS['imopenlines.crm.chat.user.add'],
	},
	'imopenlines.crm.chat.user.delete': {
		scope: 'imopenlines',
		handler: OPENLINES_METHODS['imopenlines.crm.chat.user.delete'],
	},
	// API revisions of the Open Channels module: a harmless call that needs the imopenlines scope.
	'imopenlines.revision.get': { scope: 'imopenlines', handler: () => ({ result: { rest: 1, web: 1, mobile: 1 } }) },
	// user.current and scope belong to Bitrix24's always-granted "basic" scope.
	'user.current': { scope: null, handler: DIRECTORY_METHODS['user.current'] },
	scope: { scope: null, handler: DIRECTORY_METHODS.scope },
	'user.get': { scope: 'user', handler: DIRECTORY_METHODS['user.get'] },
	'user.search': { scope: 'user', handler: DIRECTORY_METHODS['user.search'] },
	'imbot.bot.list': { scope: 'imbot', handler: DIRECTORY_METHODS['imbot.bot.list'] },
	'crm.item.list': { scope: 'crm', handler: DIRECTORY_METHODS['crm.item.list'] },
	batch: { scope: null, handler: batch, batchable: false },
};

/** Look the method up, check batch eligibility and scope, run it. Throws RestError on failure. */
export function invokeMethod(name: string, params: ParamRecord, ctx: CallContext): MethodOutcome {
	const spec = METHODS[name.toLowerCase()];
	if (!spec) throw Errors.methodNotFound();
	if (ctx.viaBatch && spec.batchable === false) throw Errors.batchMethodNotAllowed();
	if (spec.scope !== null && !ctx.scopes.includes(spec.scope)) throw Errors.insufficientScope();
	return spec.handler(params, ctx);
}
