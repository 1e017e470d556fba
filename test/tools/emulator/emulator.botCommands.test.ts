/**
 * imbot.v2.Command.* and keyboard presses in the emulator, over real HTTP: register (idempotent, its errors),
 * list, unregister; a customer's press of a COMMAND button raises ONIMBOTV2COMMANDADD for a registered command, in
 * webhook mode (a form-encoded POST) and fetch mode (Event.get), and nothing for a command nobody registered.
 */
import {
	CHATS,
	OPEN_LINES,
	startEventReceiver,
	type EventReceiver,
	type ParamRecord,
} from '../../../tools/emulator';
import { obj, postJson, request } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();
let receiver: EventReceiver;
beforeAll(async () => {
	receiver = await startEventReceiver();
});
afterAll(async () => await receiver.close());
beforeEach(() => {
	receiver.received.length = 0;
});

const TOKEN = 'n8n-commands-bot-token';
const CHAT = CHATS.LEAD_TELEGRAM_ACTIVE;
const call = (method: string, params: Record<string, unknown>) =>
	postJson(`${emu.webhookUrl}${method}`, params);
const result = (body: unknown) => obj(body).result;

async function openlineBot(eventMode: 'webhook' | 'fetch' = 'webhook'): Promise<number> {
	const res = await call('imbot.v2.Bot.register', {
		fields: {
			code: 'shop_bot',
			botToken: TOKEN,
			type: 'openline',
			eventMode,
			...(eventMode === 'webhook' ? { webhookUrl: receiver.url } : {}),
			properties: { name: 'Shop Assistant' },
		},
	});
	const botId = Number(obj(obj(result(res.body)).bot).id);
	await call('imopenlines.config.update', {
		CONFIG_ID: OPEN_LINES.SUPPORT,
		PARAMS: { WELCOME_BOT_ENABLE: 'Y', WELCOME_BOT_ID: botId },
	});
	return botId;
}

const register = (botId: number, fields: Record<string, unknown>) =>
	call('imbot.v2.Command.register', { botId, botToken: TOKEN, fields });

/** The bot greets the customer with two command buttons; returns the greeting's message ID. */
async function greetingWithButtons(botId: number): Promise<number> {
	emu.bots.customerWrites(CHAT, 'Hi');
	const sent = await call('imbot.v2.Chat.Message.send', {
		botId,
		botToken: TOKEN,
		dialogId: `chat${CHAT}`,
		fields: {
			message: 'How can I help?',
			keyboard: [
				{ TEXT: '1 Order status', COMMAND: 'order_status' },
				{ TEXT: '2 Talk to a person', COMMAND: 'operator', COMMAND_PARAMS: 'urgent' },
				{ TEXT: 'Help', COMMAND: 'help' },
			],
		},
	});
	await emu.bots.settled();
	return Number(obj(result(sent.body)).id);
}

describe('imbot.v2.Command.register / list / unregister', () => {
	it('registers once per bot and command, keeps the first data, lists and unregisters', async () => {
		const botId = await openlineBot();
		const first = await register(botId, {
			command: '/operator',
			title: { en: 'Talk to a person' },
			extranetSupport: true,
		});
		expect(first.status).toBe(200);
		const command = obj(obj(result(first.body)).command);
		expect(command).toEqual({
			id: expect.any(Number),
			botId,
			command: '/operator',
			common: false,
			hidden: false,
			extranetSupport: true,
		});
		// Idempotent: the same command (with or without its slash), nothing updated.
		const again = await register(botId, { command: 'operator', hidden: true });
		expect(obj(result(again.body)).command).toEqual(command);
		expect(emu.world.imbot.commands).toHaveLength(1);

		const list = await call('imbot.v2.Command.list', { botId, botToken: TOKEN });
		expect(obj(result(list.body)).commands).toEqual([
			{
				...command,
				title: 'Talk to a person',
				params: '',
				category: 'Shop Assistant',
				context: '',
			},
		]);
		const removed = await call('imbot.v2.Command.unregister', {
			botId,
			botToken: TOKEN,
			commandId: command.id,
		});
		expect(removed.body).toMatchObject({ result: true });
		const gone = await call('imbot.v2.Command.unregister', {
			botId,
			botToken: TOKEN,
			commandId: command.id,
		});
		expect(gone.status).toBe(400);
		expect(gone.body).toMatchObject({ error: 'COMMAND_NOT_FOUND' });
	});

	it('answers the documented errors', async () => {
		const botId = await openlineBot();
		const errorOf = async (params: Record<string, unknown>) =>
			obj((await call('imbot.v2.Command.register', params)).body).error;
		expect(await errorOf({ botId, fields: { command: 'x', hidden: true } })).toBe(
			'BOT_TOKEN_NOT_SPECIFIED',
		);
		expect(await errorOf({ botToken: TOKEN, fields: { command: 'x' } })).toBe('BOT_ID_REQUIRED');
		expect(await errorOf({ botId: 9999, botToken: TOKEN, fields: { command: 'x' } })).toBe(
			'BOT_NOT_FOUND',
		);
		expect(await errorOf({ botId, botToken: 'other', fields: { command: 'x' } })).toBe(
			'BOT_OWNERSHIP_ERROR',
		);
		expect(await errorOf({ botId, botToken: TOKEN, fields: { hidden: true } })).toBe(
			'COMMAND_REQUIRED',
		);
		expect(await errorOf({ botId, botToken: TOKEN, fields: { command: '/', hidden: true } })).toBe(
			'COMMAND_REQUIRED',
		);
		expect(
			await errorOf({ botId, botToken: TOKEN, fields: { command: ['a'], hidden: true } }),
		).toBe('COMMAND_NAME_INVALID');
		expect(await errorOf({ botId, botToken: TOKEN, fields: { command: 'visible' } })).toBe(
			'COMMAND_TITLE_REQUIRED',
		);
		// The old flat format still works.
		const flat = await call('imbot.v2.Command.register', {
			botId,
			botToken: TOKEN,
			command: 'flat',
			hidden: 'Y',
		});
		expect(obj(obj(result(flat.body)).command)).toMatchObject({ command: '/flat', hidden: true });
	});

	it("Bot.unregister removes the bot's commands", async () => {
		const botId = await openlineBot();
		await register(botId, { command: 'help', hidden: true });
		await call('imbot.v2.Bot.unregister', { botId, botToken: TOKEN });
		expect(emu.world.imbot.commands).toEqual([]);
	});
});

describe('a customer presses a keyboard button', () => {
	it('webhook mode: ONIMBOTV2COMMANDADD for the registered command, as a form-encoded POST', async () => {
		const botId = await openlineBot();
		const registered = await register(botId, {
			command: 'operator',
			hidden: true,
			extranetSupport: true,
		});
		const commandId = obj(obj(result(registered.body)).command).id;
		const messageId = await greetingWithButtons(botId);
		receiver.received.length = 0;
		const posted = emu.world.imbot.dialogs.find((d) => d.chatId === CHAT)?.messages.length;

		const { eventIds } = emu.bots.customerPresses(CHAT, messageId, '2 Talk to a person');
		await emu.bots.settled();
		expect(eventIds).toHaveLength(1);
		expect(receiver.received.map((r) => r.params.event)).toEqual(['ONIMBOTV2COMMANDADD']);
		const data = obj(receiver.received[0]?.params.data);
		const customer = emu.world.imbot.dialogs.find((d) => d.chatId === CHAT)?.customerId;
		expect(obj(data.command)).toEqual({
			id: String(commandId),
			command: '/operator',
			params: 'urgent',
			context: 'keyboard',
		});
		expect(obj(data.message)).toMatchObject({
			id: String(messageId),
			chatId: String(CHAT),
			authorId: String(customer),
			text: '/operator urgent',
		});
		expect(obj(data.chat)).toMatchObject({ dialogId: `chat${CHAT}`, entityType: 'LINES' });
		expect(obj(data.user)).toMatchObject({ id: String(customer), connector: '1' });
		expect(data.language).toBe('en');
		expect(obj(obj(data.bot).auth)).toHaveProperty('application_token');
		// A press posts nothing in the chat.
		expect(emu.world.imbot.dialogs.find((d) => d.chatId === CHAT)?.messages).toHaveLength(
			posted ?? -1,
		);
	});

	it('fetch mode: the event waits for Event.get, typed', async () => {
		const botId = await openlineBot('fetch');
		await register(botId, { command: 'order_status', hidden: true, extranetSupport: true });
		const messageId = await greetingWithButtons(botId);
		emu.bots.customerPresses(CHAT, messageId, '1 Order status');
		const got = obj(result((await call('imbot.v2.Event.get', { botId, botToken: TOKEN })).body));
		const events = got.events as Array<{ type: string; data: ParamRecord }>;
		const pressed = events.filter((e) => e.type === 'ONIMBOTV2COMMANDADD');
		expect(pressed).toHaveLength(1);
		expect(pressed[0]?.data.command).toEqual({
			id: expect.any(Number),
			command: '/order_status',
			params: '',
			context: 'keyboard',
		});
		expect(obj(pressed[0]?.data.message)).toMatchObject({ id: messageId, text: '/order_status' });
		expect(obj(pressed[0]?.data.bot)).toMatchObject({ id: botId, countCommand: 1 });
	});

	it('reaches nobody when the command is not registered, or not for extranet users (customers are)', async () => {
		const botId = await openlineBot();
		await register(botId, { command: 'operator', hidden: true });
		const messageId = await greetingWithButtons(botId);
		receiver.received.length = 0;
		expect(emu.bots.customerPresses(CHAT, messageId, '1 Order status').eventIds).toEqual([]);
		expect(emu.bots.customerPresses(CHAT, messageId, '2 Talk to a person').eventIds).toEqual([]);
		await emu.bots.settled();
		expect(receiver.received).toEqual([]);
		expect(() => emu.bots.customerPresses(CHAT, messageId, 'No such button')).toThrow(
			'has no command button "No such button"',
		);
	});

	it('the control API presses a button too', async () => {
		const botId = await openlineBot();
		await register(botId, { command: 'help', hidden: true, extranetSupport: true });
		const messageId = await greetingWithButtons(botId);
		const res = await request(`${emu.baseUrl}/_emulator/customer-press`, {
			body: { json: { chatId: CHAT, messageId, text: 'Help' } },
		});
		expect(res.status).toBe(200);
		expect(obj(res.body).eventIds).toHaveLength(1);
	});
});
