/**
 * imbot.v2.Command.register / unregister / list (b24restdocs api-reference/chat-bots/chat-bots-v2/imbot.v2/commands/):
 * a bot's slash commands, which keyboard buttons name in COMMAND. A button press reaches the bots through
 * BotPlatform.customerPresses (bots.ts), as Im\Command::onCommandAdd finds the commands (server code).
 *
 * - register: `fields` (the old flat format too, supported by Bitrix24 until 30.09.2026); `command` without its
 *   slash (one leading slash is stripped, as Im\Command::register does); idempotent: the same command of the same
 *   bot comes back as it is, nothing updated (command-register.md); a visible command (`hidden` false) needs a
 *   `title` `{langCode: text}` (COMMAND_TITLE_REQUIRED).
 * - unregister: `commandId` of one of the bot's commands, else COMMAND_NOT_FOUND ("not found or access denied").
 * - list: the bot's commands, `command` with its slash, `title`/`params` in the bot's language (else the first).
 * Every method checks the bot first (BOT_TOKEN_NOT_SPECIFIED, BOT_ID_REQUIRED, BOT_NOT_FOUND, BOT_OWNERSHIP_ERROR).
 */
import type { BotCommand, RegisteredBot } from './botWorld';
import { botError, requireOwnedBot } from './bots';
import type { CallContext, MethodOutcome } from './context';
import {
	isRecord,
	parseFlag,
	parseInteger,
	scalarString,
	type ParamRecord,
	type ParamValue,
} from './params';

/** `{langCode: text}` with two-letter lower-case codes and non-empty texts; anything else is no translation. */
function translations(value: ParamValue | undefined): Record<string, string> {
	if (!isRecord(value ?? null)) return {};
	return Object.fromEntries(
		Object.entries(value as ParamRecord)
			.map(([lang, text]) => [lang.toLowerCase(), scalarString(text)?.trim() ?? ''] as const)
			.filter(([lang, text]) => /^[a-z]{2}$/.test(lang) && text !== ''),
	);
}

const inLanguage = (texts: Record<string, string>, language: string): string =>
	texts[language] ?? Object.values(texts)[0] ?? '';

/** The Command object of register's answer (command-register.md). */
const commandObject = (command: BotCommand) => ({
	id: command.id,
	botId: command.botId,
	command: `/${command.command}`,
	common: command.common,
	hidden: command.hidden,
	extranetSupport: command.extranetSupport,
});

/** Command.register: idempotent per bot and command; the first registration's data stays. */
function register(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const bot = requireOwnedBot(params, ctx);
	const fields = isRecord(params.fields) ? params.fields : params;
	const raw = fields.command;
	if (raw === undefined || raw === null || raw === '')
		throw botError('COMMAND_REQUIRED', 'Command is required');
	if (typeof raw !== 'string') throw botError('COMMAND_NAME_INVALID', 'Command name is invalid');
	const name = raw.trim().replace(/^\//, '');
	if (name === '') throw botError('COMMAND_REQUIRED', 'Command is required');
	const hidden = parseFlag(fields.hidden) ?? false;
	const title = translations(fields.title);
	if (!hidden && Object.keys(title).length === 0)
		throw botError('COMMAND_TITLE_REQUIRED', 'Command title is required');
	const { imbot } = ctx.world;
	const existing = imbot.commands.find((c) => c.botId === bot.id && c.command === name);
	if (existing) return { result: { command: commandObject(existing) } };
	const command: BotCommand = {
		id: imbot.nextCommandId++,
		botId: bot.id,
		command: name,
		title,
		params: translations(fields.params),
		common: parseFlag(fields.common) ?? false,
		hidden,
		extranetSupport: parseFlag(fields.extranetSupport) ?? false,
	};
	imbot.commands.push(command);
	return { result: { command: commandObject(command) } };
}

function unregister(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const bot = requireOwnedBot(params, ctx);
	const commandId = parseInteger(params.commandId ?? params.COMMAND_ID);
	const { imbot } = ctx.world;
	const command = imbot.commands.find((c) => c.id === commandId && c.botId === bot.id);
	if (!command) throw botError('COMMAND_NOT_FOUND', 'Command not found');
	imbot.commands = imbot.commands.filter((c) => c !== command);
	return { result: true };
}

function list(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const bot: RegisteredBot = requireOwnedBot(params, ctx);
	const commands = ctx.world.imbot.commands
		.filter((c) => c.botId === bot.id)
		.map((c) => ({
			...commandObject(c),
			title: inLanguage(c.title, bot.language),
			params: inLanguage(c.params, bot.language),
			category: bot.properties.name,
			context: '',
		}));
	return { result: { commands } };
}

export const COMMAND_METHODS = {
	'imbot.v2.command.register': register,
	'imbot.v2.command.unregister': unregister,
	'imbot.v2.command.list': list,
} as const;
