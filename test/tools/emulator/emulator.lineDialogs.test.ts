/**
 * Open channels and chats added for benchmarks and demos (tools/emulator/lineDialogs.ts), over real HTTP: the
 * welcome bot of an added line joins an added chat at the customer's first message and hears it, its reply lands
 * in that chat, and each delivery records when its POST started and was answered.
 */
import {
	addLineDialogs,
	addOpenLine,
	FIRST_LINE_DIALOG_CHAT,
	OPEN_LINES,
	startEventReceiver,
	type EventReceiver,
} from '../../../tools/emulator';
import { obj, postJson } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();
let receiver: EventReceiver;
beforeAll(async () => {
	receiver = await startEventReceiver();
});
afterAll(async () => await receiver.close());

const TOKEN = 'n8n-lines-7f3a9c2e51b04d6b';
const call = async (method: string, params: unknown) =>
	await postJson(`${emu.webhookUrl}${method}`, { botToken: TOKEN, ...(params as object) });

it('adds an active open channel with a new ID and chats on it that its welcome bot joins and answers', async () => {
	const lineId = addOpenLine(emu.world, 'Bench line');
	expect(lineId).toBeGreaterThan(Math.max(...Object.values(OPEN_LINES)));
	const chats = addLineDialogs(emu.world, lineId, 3, 'Guest');
	expect(chats).toEqual([0, 1, 2].map((i) => FIRST_LINE_DIALOG_CHAT + i));
	expect(addLineDialogs(emu.world, lineId, 1)).toEqual([FIRST_LINE_DIALOG_CHAT + 3]);

	const registered = await call('imbot.v2.Bot.register', {
		fields: {
			code: 'n8n_lines_bot',
			botToken: TOKEN,
			type: 'openline',
			eventMode: 'webhook',
			webhookUrl: receiver.url,
			properties: { name: 'Lines bot' },
		},
	});
	const botId = Number(obj(obj(obj(registered.body).result).bot).id);
	const attached = await call('imopenlines.config.update', {
		CONFIG_ID: lineId,
		PARAMS: { WELCOME_BOT_ENABLE: 'Y', WELCOME_BOT_ID: botId, WELCOME_BOT_JOIN: 'always' },
	});
	expect(attached.body).toMatchObject({ result: true });

	const [chatId = 0] = chats;
	emu.bots.customerWrites(chatId, 'Hi there');
	await emu.bots.settled();
	const deliveries = emu.world.imbot.deliveries.filter((d) => d.botId === botId);
	expect(deliveries.map((d) => [d.type, d.status])).toEqual([
		['ONIMBOTV2JOINCHAT', 200],
		['ONIMBOTV2MESSAGEADD', 200],
	]);
	for (const { postedAt = NaN, answeredAt = NaN } of deliveries)
		expect(answeredAt).toBeGreaterThanOrEqual(postedAt);

	const sent = await call('imbot.v2.Chat.Message.send', {
		botId,
		dialogId: `chat${chatId}`,
		fields: { message: 'Hello, Guest 1' },
	});
	expect(sent.status).toBe(200);
	const dialog = emu.world.imbot.dialogs.find((d) => d.chatId === chatId);
	expect(dialog).toMatchObject({ lineId, customerName: 'Guest 1', holder: botId });
	expect(dialog?.messages.map((m) => [m.authorId === botId ? 'bot' : 'customer', m.text])).toEqual([
		['customer', 'Hi there'],
		['bot', 'Hello, Guest 1'],
	]);
});
