/** The REST method table (names lower-case: Bitrix24 matches method names case-insensitively). */
import { batch } from './batch';
import { COMMAND_METHODS } from './botCommands';
import { BOT_METHODS, LINE_CONFIG_METHODS } from './bots';
import { BOT_SESSION_METHODS } from './botSessions';
import type { MethodSpec } from './context';
import { DIRECTORY_METHODS } from './directory';
import { OPENLINES_METHODS } from './openlines';
import { recentList } from './recent';

const openlines = (name: keyof typeof OPENLINES_METHODS): MethodSpec => ({
	scope: 'imopenlines',
	handler: OPENLINES_METHODS[name],
});

const openlinesBot = (
	name: Exclude<keyof typeof BOT_SESSION_METHODS, 'imbot.v2.chat.message.send'>,
): MethodSpec => ({
	scope: 'imopenlines',
	handler: BOT_SESSION_METHODS[name],
});

export const METHODS: Readonly<Record<string, MethodSpec>> = {
	'imopenlines.crm.message.add': openlines('imopenlines.crm.message.add'),
	'imopenlines.crm.chat.get': openlines('imopenlines.crm.chat.get'),
	'imopenlines.crm.chat.getlastid': openlines('imopenlines.crm.chat.getlastid'),
	'imopenlines.crm.chat.user.add': openlines('imopenlines.crm.chat.user.add'),
	'imopenlines.crm.chat.user.delete': openlines('imopenlines.crm.chat.user.delete'),
	// The bot's side of open channel dialogs (botSessions.ts); rest.php registers bot.session.* under imopenlines.
	'imbot.v2.chat.message.send': {
		scope: 'imbot',
		handler: BOT_SESSION_METHODS['imbot.v2.chat.message.send'],
	},
	'imopenlines.bot.session.operator': openlinesBot('imopenlines.bot.session.operator'),
	'imopenlines.bot.session.transfer': openlinesBot('imopenlines.bot.session.transfer'),
	'imopenlines.bot.session.finish': openlinesBot('imopenlines.bot.session.finish'),
	'imopenlines.session.history.get': openlinesBot('imopenlines.session.history.get'),
	// API revisions of the Open Channels module: a harmless call that needs the imopenlines scope.
	'imopenlines.revision.get': {
		scope: 'imopenlines',
		handler: () => ({ result: { rest: 1, web: 1, mobile: 1 } }),
	},
	// rest/lib/api/user.php: the user scope (user_brief and user_basic also open it, see auth.ts).
	'user.current': { scope: 'user', handler: DIRECTORY_METHODS['user.current'] },
	'user.get': { scope: 'user', handler: DIRECTORY_METHODS['user.get'] },
	'user.search': { scope: 'user', handler: DIRECTORY_METHODS['user.search'] },
	// `scope` and `batch` belong to the global scope every credential has.
	scope: { scope: null, handler: DIRECTORY_METHODS.scope },
	'imbot.bot.list': { scope: 'imbot', handler: DIRECTORY_METHODS['imbot.bot.list'] },
	'crm.item.list': { scope: 'crm', handler: DIRECTORY_METHODS['crm.item.list'] },
	// The caller's recent chats (recent.ts): the Bot Dialog chat pick-list.
	'im.recent.list': { scope: 'im', handler: recentList },
	batch: { scope: null, handler: batch },
	// imbot.v2 bots (bots.ts): scope imbot; the open channels' settings: scope imopenlines.
	...Object.fromEntries(
		Object.entries(BOT_METHODS).map(([name, handler]) => [name, { scope: 'imbot', handler }]),
	),
	// The bots' slash commands (botCommands.ts), which keyboard buttons name.
	...Object.fromEntries(
		Object.entries(COMMAND_METHODS).map(([name, handler]) => [name, { scope: 'imbot', handler }]),
	),
	...Object.fromEntries(
		Object.entries(LINE_CONFIG_METHODS).map(([name, handler]) => [
			name,
			{ scope: 'imopenlines', handler },
		]),
	),
};

/** The method by name, any case; undefined is ERROR_METHOD_NOT_FOUND. */
export function findMethod(name: string): MethodSpec | undefined {
	return Object.prototype.hasOwnProperty.call(METHODS, name.toLowerCase())
		? METHODS[name.toLowerCase()]
		: undefined;
}
