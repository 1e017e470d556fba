import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import type { DirectContext } from '../shared/transport';

/** The imbot.v2 method that registers a bot's command. */
export const COMMAND_REGISTER = 'imbot.v2.Command.register';

/** One of the trigger's Button Commands, checked. */
export interface ButtonCommand {
	/** Without its slash, as a button's COMMAND names it. */
	name: string;
	/** Shown to employees in Bitrix24's command list; empty: the command is hidden (buttons still send it). */
	description: string;
}

/**
 * The trigger's Button Commands, checked before anything is registered. A name is one word: Bitrix24 reads a
 * pressed button as the text "/COMMAND COMMAND_PARAMS" and takes the command up to the first space
 * (Im\Command::onCommandAdd), so a name with a space would register but no button could ever send it.
 */
export function buttonCommandsOf(context: DirectContext): ButtonCommand[] {
	const entries = context.getNodeParameter('buttonCommands.command', []) as IDataObject[];
	const commands = new Map<string, ButtonCommand>();
	entries.forEach((entry, index) => {
		const raw = String(entry.name ?? '').trim();
		const name = raw.replace(/^\//, '');
		const field = `Button Commands > Command ${index + 1}`;
		if (name === '')
			throw new NodeOperationError(context.getNode(), `${field} has no name`, {
				description:
					'Fill in the command a button sends (its Value when the button type is Bot Command), e.g. operator, or remove the entry.',
			});
		if (/\s/.test(name))
			throw new NodeOperationError(
				context.getNode(),
				`${field} "${raw}" has a space: Bitrix24 reads a command up to the first space, so no button could send it`,
				{
					description: `Use one word, e.g. ${name.replace(/\s+/g, '_')}, here and in the buttons that send it.`,
				},
			);
		if (!commands.has(name))
			commands.set(name, { name, description: String(entry.description ?? '').trim() });
	});
	return [...commands.values()];
}

/**
 * Registers the trigger's Button Commands with its bot, so that pressing a button whose COMMAND names one raises
 * ONIMBOTV2COMMANDADD (the trigger's Command event).
 *
 * Why here, and why like this:
 * - Bitrix24 raises the event only for a registered command: a press reads as the text "/COMMAND COMMAND_PARAMS",
 *   matched against the registered commands, and a name nobody registered reaches nobody, silently
 *   (Im\Command::onCommandAdd / findCommands, CIMMessenger::ExecCommand; message-keyboards.md: "To ensure the command
 *   works with the keyboard, register it using imbot.v2.Command.register").
 * - Command.register is idempotent: the same command of the same bot from the same application comes back as it is,
 *   nothing updated (command-register.md; Im\Command::register looks the bot's command up before adding). So every
 *   activation simply registers every command: nothing to compare, a re-activation changes nothing, and a command
 *   added to the list is registered by the next activation. A Description changed later stays as first registered
 *   (Command.update would change it; the trigger leaves that, and removing commands, to Bitrix24's own tools).
 * - extranetSupport: an open channel's customer is an extranet user, and findCommands skips commands without it for
 *   extranet users: without it every customer's press would be lost.
 * - common stays false: the command works in the chats the bot is in, which are its open channel dialogs.
 * - The trigger, not Send Message, registers: the commands are the bot's, set up with the bot at activation (one call
 *   each), while Send Message runs for every reply and batches its calls.
 */
export async function registerButtonCommands(
	botId: number,
	language: string,
	commands: readonly ButtonCommand[],
	call: (method: string, params: IDataObject) => Promise<unknown>,
): Promise<void> {
	for (const { name, description } of commands) {
		await call(COMMAND_REGISTER, {
			botId,
			fields: {
				command: name,
				...(description === ''
					? { hidden: true }
					: { hidden: false, title: { [language]: description } }),
				common: false,
				extranetSupport: true,
			},
		});
	}
}
