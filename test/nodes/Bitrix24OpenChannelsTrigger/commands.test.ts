/**
 * Keyboard buttons and commands through n8n-core's HookContext, WebhookContext and PollContext
 * (tools/harness/trigger.ts): the trigger registers its Button Commands with the bot, and a customer's press of a
 * Bot Command button becomes a Command item, in instant mode (the emulator POSTs ONIMBOTV2COMMANDADD) and polling
 * mode (Event.get).
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { CHATS, OPEN_LINES, SEEDED_BOT_IDS, type RegisteredBot } from '../../../tools/emulator';
import { obj, postJson } from '../../../tools/emulator/testClient';
import { TRIGGER_NAME, TriggerHarness } from '../../../tools/harness/trigger';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();
const harnesses: TriggerHarness[] = [];
afterEach(async () => {
	await Promise.all(harnesses.splice(0).map(async (h) => await h.close()));
});

const BOT_TOKEN = 'n8n-shop-bot-commands-token';
const CHAT = CHATS.LEAD_TELEGRAM_ACTIVE;
const SUPPORT_BOT: INodeParameters = {
	events: ['message', 'command'],
	buttonCommands: {
		command: [
			{ name: 'order_status', description: '' },
			{ name: '/operator', description: 'Talk to a person' },
		],
	},
	attachTo: {
		channels: [{ line: { __rl: true, mode: 'list', value: String(OPEN_LINES.SUPPORT) } }],
	},
};

async function trigger(parameters: INodeParameters) {
	const harness = await TriggerHarness.start({
		parameters: { ...SUPPORT_BOT, ...parameters },
		credential: {
			type: 'bitrix24WebhookApi',
			data: { webhookUrl: emu.webhookUrl, botToken: BOT_TOKEN },
		},
	});
	harnesses.push(harness);
	return harness;
}

const bot = (): RegisteredBot => {
	const found = emu.world.imbot.registered.find((b) => !SEEDED_BOT_IDS.includes(b.id));
	if (!found) throw new Error('no bot registered');
	return found;
};
const calledTimes = (method: string) => emu.requests.filter((r) => r.restMethod === method).length;

/** The customer writes; the bot answers with the two menu buttons (as Send Message sends them); its message ID. */
async function menuShown(): Promise<number> {
	emu.bots.customerWrites(CHAT, 'Hi');
	await emu.bots.settled();
	const sent = await postJson(`${emu.webhookUrl}imbot.v2.Chat.Message.send`, {
		botId: bot().id,
		botToken: BOT_TOKEN,
		dialogId: `chat${CHAT}`,
		fields: {
			message: 'How can I help?',
			keyboard: [
				{ TEXT: '1 Order status', COMMAND: 'order_status' },
				{ TEXT: '2 Talk to a person', COMMAND: 'operator' },
				{ TEXT: 'Help', COMMAND: 'help' },
			],
		},
	});
	await emu.bots.settled();
	return Number(obj(obj(sent.body).result).id);
}

async function presses(messageId: number, button: string): Promise<void> {
	emu.bots.customerPresses(CHAT, messageId, button);
	await emu.bots.settled();
}

/** The Command item of a press of "2 Talk to a person" on the message. */
function commandItem(messageId: number, eventId: unknown = null): Record<string, unknown> {
	const dialog = emu.world.imbot.dialogs.find((d) => d.chatId === CHAT);
	const command = emu.world.imbot.commands.find((c) => c.command === 'operator');
	return {
		event: 'command',
		chatId: CHAT,
		dialogId: `chat${CHAT}`,
		messageId,
		text: null,
		command: 'operator',
		commandId: command?.id,
		commandParams: '',
		commandContext: 'keyboard',
		date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
		author: { id: dialog?.customerId, name: 'Guest Telegram', isCustomer: true, isBot: false },
		lineId: OPEN_LINES.SUPPORT,
		connector: 'telegrambot',
		connectorChatId: String(dialog?.connectorChatId),
		connectorUserId: String(dialog?.customerId),
		sessionId: dialog?.sessionId,
		crmEntityType: 'lead',
		crmEntityId: 1195,
		crmBindings: { lead: 1195 },
		botId: bot().id,
		botCode: 'n8n_open_channels',
		eventId,
		raw: expect.objectContaining({ type: 'ONIMBOTV2COMMANDADD' }),
	};
}

describe('a customer presses "2 Talk to a person"', () => {
	it('instant mode: the workflow gets a Command item to route on; an unregistered command starts nothing', async () => {
		const harness = await trigger({ mode: 'instant' });
		await harness.activate();
		// Registered with the bot: hidden without a description, visible with one; usable by customers (extranet).
		expect(emu.world.imbot.commands.map((c) => [c.command, c.hidden, c.title])).toEqual([
			['order_status', true, {}],
			['operator', false, { en: 'Talk to a person' }],
		]);
		expect(emu.world.imbot.commands.every((c) => c.botId === bot().id && c.extranetSupport)).toBe(
			true,
		);

		const messageId = await menuShown();
		expect(harness.executions.map((e) => e[0]?.json.event)).toEqual(['message']);
		await presses(messageId, '2 Talk to a person');
		expect(harness.executions).toHaveLength(2);
		expect(harness.executions[1]?.[0]?.json).toEqual(commandItem(messageId));

		// "Help" is no Button Command: Bitrix24 tells nobody. "1 Order status" is one.
		await presses(messageId, 'Help');
		await presses(messageId, '1 Order status');
		expect(harness.executions.slice(2).map((e) => e[0]?.json.command)).toEqual(['order_status']);
		// The same button again on the same message reads as a repeated delivery (a press has no ID of its own).
		await presses(messageId, '1 Order status');
		expect(harness.executions).toHaveLength(3);
	});

	it('polling mode: the first poll registers the bot and its commands; the press comes as a Command item', async () => {
		const harness = await trigger({ mode: 'polling' });
		await harness.activate();
		expect(await harness.poll()).toBeNull();
		expect(emu.world.imbot.commands.map((c) => c.command)).toEqual(['order_status', 'operator']);
		const messageId = await menuShown();
		await presses(messageId, '2 Talk to a person');
		const items = (await harness.poll())?.[0] ?? [];
		expect(items.map((i) => i.json.event)).toEqual(['message', 'command']);
		expect(items[1]?.json).toEqual(commandItem(messageId, expect.any(Number)));
		expect(emu.world.imbot.deliveries).toEqual([]);
	});

	it("is emitted when only Dialog Started's events came before (accepted, not pinned: a press posts no message)", async () => {
		const harness = await trigger({ mode: 'instant', events: ['command'] });
		await harness.activate();
		const messageId = await menuShown();
		const state = harness.workflow.staticData[`node:${TRIGGER_NAME}`] as IDataObject;
		// As if no customer message had come yet: the token the press carries is not pinned.
		delete state.applicationTokenHash;
		const pinned = harness.calls.length;
		await presses(messageId, '2 Talk to a person');
		expect(harness.calls.slice(pinned).map((c) => c.answer.status)).toEqual([200]);
		expect(harness.executions.map((e) => e[0]?.json.command)).toEqual(['operator']);
		expect(state.applicationTokenHash).toBeUndefined();
	});
});

describe('Button Commands registration', () => {
	it('is idempotent: activating again, deactivating and activating, restarting keep one command each', async () => {
		const harness = await trigger({ mode: 'instant' });
		await harness.activate();
		const first = emu.world.imbot.commands.map((c) => [c.id, c.command]);
		await harness.activate();
		await harness.deactivate();
		await harness.activate();
		expect(emu.world.imbot.commands.map((c) => [c.id, c.command])).toEqual(first);
		// Each setup of the bot registers both again (Bitrix24 answers with the existing ones); the second
		// activation found the bot at its URL (checkExists) and set nothing up.
		expect(calledTimes('imbot.v2.command.register')).toBe(4);
		const restarted = await harness.restart();
		harnesses.push(restarted);
		await restarted.activate('init');
		expect(calledTimes('imbot.v2.command.register')).toBe(4);
		expect(emu.world.imbot.commands.map((c) => [c.id, c.command])).toEqual(first);
		// A command added to the list is registered by the next activation.
		await restarted.deactivate();
		const more = await trigger({
			mode: 'instant',
			buttonCommands: {
				command: [{ name: 'order_status' }, { name: 'operator' }, { name: 'prices' }],
			},
		});
		await more.activate();
		expect(emu.world.imbot.commands.map((c) => c.command)).toEqual([
			'order_status',
			'operator',
			'prices',
		]);
	});

	it('a command name with a space fails activation before anything is registered', async () => {
		const harness = await trigger({
			mode: 'instant',
			buttonCommands: { command: [{ name: 'talk to person' }] },
		});
		const error = (await harness.activate().catch((e: unknown) => e)) as Error & {
			description?: string;
		};
		expect(error.message).toBe(
			'Button Commands > Command 1 "talk to person" has a space: Bitrix24 reads a command up to the first space, so no button could send it',
		);
		expect(error.description).toContain('talk_to_person');
		expect(calledTimes('imbot.v2.bot.register')).toBe(0);
		expect(emu.world.imbot.commands).toEqual([]);

		const empty = await trigger({ mode: 'instant', buttonCommands: { command: [{ name: ' ' }] } });
		await expect(empty.activate()).rejects.toThrow('Button Commands > Command 1 has no name');
	});

	it("a command Bitrix24 refuses fails activation with the code's sentence and hint", async () => {
		const harness = await trigger({ mode: 'instant' });
		emu.injectFaults([{ kind: 'errorIn200', error: 'COMMAND_REGISTER_FAILED' }], {
			method: 'imbot.v2.Command.register',
		});
		const error = (await harness.activate().catch((e: unknown) => e)) as Error & {
			description?: string;
		};
		expect(error.message).toBe(
			'imbot.v2.Command.register: Bitrix24 could not register a command of the bot (COMMAND_REGISTER_FAILED)',
		);
		expect(error.description).toContain('Activate the workflow again');
	});
});
