/**
 * The bot's side of open channel dialogs over real HTTP: imbot.v2.Chat.Message.send, imopenlines.bot.session.*,
 * imopenlines.session.history.get, with the server code's checks and codes.
 */
import {
	BOT_DIALOGS,
	CHATS,
	BOTS,
	CUSTOMERS,
	lineChatState,
	OPEN_LINES,
	SUPPORT_BOT_TOKEN,
	USERS,
	type ParamRecord,
} from '../../../tools/emulator';
import { obj, postJson } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();

const call = (method: string, params: unknown) => postJson(`${emu.webhookUrl}${method}`, params);
const SEND = 'imbot.v2.Chat.Message.send';
const asBot = {
	botId: BOTS.SUPPORT_BOT,
	botToken: SUPPORT_BOT_TOKEN,
	dialogId: `chat${BOT_DIALOGS.WITH_BOT}`,
};
const errorOf = (res: { status: number; body: unknown }) => [res.status, obj(res.body).error];
const dialog = (chatId: number) => {
	const found = lineChatState(emu.world, chatId);
	if (!found) throw new Error(`no dialog ${chatId}`);
	return found;
};

describe('imbot.v2.Chat.Message.send', () => {
	it('posts as the bot: the new message ID, the text trimmed, the keyboard kept', async () => {
		const keyboard = [
			{ TEXT: 'Talk to a human', COMMAND: 'operator' },
			{ TYPE: 'NEWLINE' },
			{ TEXT: 'Track', LINK: 'https://shop.example.com/track' },
		];
		const res = await call(SEND, { ...asBot, fields: { message: ' Hello [b]you[/b] ', keyboard } });

		expect(res.status).toBe(200);
		const { id } = obj(obj(res.body).result);
		expect(dialog(BOT_DIALOGS.WITH_BOT).messages.at(-1)).toMatchObject({
			id,
			authorId: BOTS.SUPPORT_BOT,
			text: 'Hello [b]you[/b]',
			keyboard,
		});
	});

	it.each([
		['no token under a webhook', { ...asBot, botToken: undefined }, 'BOT_TOKEN_NOT_SPECIFIED'],
		['no bot ID', { ...asBot, botId: undefined }, 'BOT_ID_REQUIRED'],
		['an unknown bot', { ...asBot, botId: 4242 }, 'BOT_NOT_FOUND'],
		['another token', { ...asBot, botToken: 'someone-else' }, 'BOT_OWNERSHIP_ERROR'],
		['a bot of the OAuth application', { ...asBot, botId: BOTS.SURVEY_BOT }, 'BOT_OWNERSHIP_ERROR'],
		[
			'a chat the bot left at hand-over',
			{ ...asBot, dialogId: `chat${BOT_DIALOGS.WITH_OPERATOR}` },
			'ACCESS_DENIED',
		],
		['a chat that does not exist', { ...asBot, dialogId: 'chat9999' }, 'ACCESS_DENIED'],
		['no text', { ...asBot, fields: { message: '   ' } }, 'EMPTY_MESSAGE'],
		[
			'a keyboard without a usable button',
			{ ...asBot, fields: { message: 'Hi', keyboard: [{ TEXT: 'no action' }] } },
			'KEYBOARD_ERROR',
		],
	])('refuses %s with 400 and posts nothing', async (_case, params, code) => {
		const before = dialog(BOT_DIALOGS.WITH_BOT).messages.length;
		const res = await call(SEND, { fields: { message: 'Hi' }, ...params });

		expect(errorOf(res)).toEqual([400, code]);
		expect(dialog(BOT_DIALOGS.WITH_BOT).messages).toHaveLength(before);
	});

	it('needs no token over OAuth for a bot of the application, and refuses a token bot there', async () => {
		const { access_token: token } = emu.issueOAuthTokens();
		const viaOAuth = (params: object) =>
			postJson(`${emu.baseUrl}/rest/${SEND}`, params, { authorization: `Bearer ${token}` });
		lineChatState(emu.world, BOT_DIALOGS.WITH_BOT)?.members.push(BOTS.SURVEY_BOT);

		const own = await viaOAuth({
			botId: BOTS.SURVEY_BOT,
			dialogId: `chat${BOT_DIALOGS.WITH_BOT}`,
			fields: { message: 'Survey' },
		});
		const foreign = await viaOAuth({ ...asBot, fields: { message: 'Hi' } });

		expect(own.status).toBe(200);
		expect(errorOf(foreign)).toEqual([400, 'BOT_OWNERSHIP_ERROR']);
	});

	it('needs the imbot scope', async () => {
		const res = await postJson(`${emu.limitedWebhookUrl}${SEND}`, {
			...asBot,
			fields: { message: 'Hi' },
		});
		expect(errorOf(res)).toEqual([401, 'insufficient_scope']);
	});
});

describe('imopenlines.bot.session.operator', () => {
	it('moves a dialog the bot holds to the queue; the bot leaves the chat', async () => {
		const res = await call('imopenlines.bot.session.operator', { CHAT_ID: BOT_DIALOGS.WITH_BOT });

		expect(res.body).toMatchObject({ result: true });
		expect(dialog(BOT_DIALOGS.WITH_BOT)).toMatchObject({ holder: 0, members: [CUSTOMERS.GUEST] });
		expect(emu.world.imbot.sessionEvents).toEqual([
			expect.objectContaining({ kind: 'operator', chatId: BOT_DIALOGS.WITH_BOT }),
		]);
	});

	it('answers WRONG_CHAT when an operator already has the dialog, CHAT_ID_EMPTY without a chat', async () => {
		expect(
			errorOf(
				await call('imopenlines.bot.session.operator', { CHAT_ID: BOT_DIALOGS.WITH_OPERATOR }),
			),
		).toEqual([400, 'WRONG_CHAT']);
		expect(errorOf(await call('imopenlines.bot.session.operator', { CHAT_ID: 'abc' }))).toEqual([
			400,
			'CHAT_ID_EMPTY',
		]);
	});
});

describe('imopenlines.bot.session.transfer', () => {
	const TRANSFER = 'imopenlines.bot.session.transfer';
	const base = { CHAT_ID: BOT_DIALOGS.WITH_BOT, CLIENT_ID: SUPPORT_BOT_TOKEN };

	it('to an employee: the employee holds the dialog; LEAVE=Y takes the bot out at once', async () => {
		const res = await call(TRANSFER, { ...base, USER_ID: USERS.MARIA_MANAGER, LEAVE: 'Y' });

		expect(res.body).toMatchObject({ result: true });
		expect(dialog(BOT_DIALOGS.WITH_BOT)).toMatchObject({
			holder: USERS.MARIA_MANAGER,
			members: [CUSTOMERS.GUEST, USERS.MARIA_MANAGER],
		});
	});

	it('to another open channel by QUEUE_ID or TRANSFER_ID "queue<ID>"; the bot stays without LEAVE', async () => {
		await call(TRANSFER, { ...base, TRANSFER_ID: `queue${OPEN_LINES.SALES}` });

		expect(dialog(BOT_DIALOGS.WITH_BOT)).toMatchObject({
			lineId: OPEN_LINES.SALES,
			holder: 0,
			members: [CUSTOMERS.GUEST, BOTS.SUPPORT_BOT],
		});
		expect(emu.world.imbot.sessionEvents.at(-1)).toMatchObject({
			to: `queue${OPEN_LINES.SALES}`,
			leave: false,
			botId: BOTS.SUPPORT_BOT,
		});
	});

	it.each([
		['no target', {}, 400, 'TRANSFER_ID_EMPTY'],
		['USER_ID 0', { USER_ID: 0 }, 400, 'USER_ID_EMPTY'],
		['QUEUE_ID "x"', { QUEUE_ID: 'x' }, 400, 'QUEUE_ID_EMPTY'],
		['a deactivated employee', { USER_ID: USERS.IVAN_FORMER }, 400, 'OPERATOR_WRONG'],
		['a bot', { USER_ID: BOTS.SURVEY_BOT }, 400, 'OPERATOR_WRONG'],
		['an unknown line', { QUEUE_ID: 404 }, 400, 'OPERATOR_WRONG'],
		['no CLIENT_ID under a webhook', { USER_ID: 27, CLIENT_ID: '' }, 403, 'ACCESS_DENIED'],
		[
			'a CLIENT_ID that registered no bot',
			{ USER_ID: 27, CLIENT_ID: 'nobody' },
			400,
			'BOT_ID_ERROR',
		],
	])('refuses %s', async (_case, params, status, code) => {
		const res = await call(TRANSFER, { ...base, ...params });
		expect(errorOf(res)).toEqual([status, code]);
		expect(emu.world.imbot.sessionEvents).toEqual([]);
	});
});

describe('imopenlines.bot.session.finish', () => {
	it('closes the session on behalf of the bot; a closed one again is no error', async () => {
		const params = { CHAT_ID: BOT_DIALOGS.WITH_BOT, CLIENT_ID: SUPPORT_BOT_TOKEN };
		expect((await call('imopenlines.bot.session.finish', params)).body).toMatchObject({
			result: true,
		});
		expect((await call('imopenlines.bot.session.finish', params)).body).toMatchObject({
			result: true,
		});

		expect(dialog(BOT_DIALOGS.WITH_BOT).sessionOpen).toBe(false);
		expect(emu.world.imbot.sessionEvents.map((e) => e.kind)).toEqual(['finish']);
	});

	it('answers BOT_ID_ERROR for an application without a bot', async () => {
		const res = await call('imopenlines.bot.session.finish', {
			CHAT_ID: BOT_DIALOGS.WITH_BOT,
			CLIENT_ID: 'nobody',
		});
		expect(errorOf(res)).toEqual([400, 'BOT_ID_ERROR']);
	});
});

describe('imopenlines.session.history.get', () => {
	it("gives the chat's latest session, messages keyed by ID with their authors", async () => {
		const res = await call('imopenlines.session.history.get', { CHAT_ID: BOT_DIALOGS.WITH_BOT });
		const result = obj(obj(res.body).result);

		expect(result).toMatchObject({ chatId: BOT_DIALOGS.WITH_BOT, sessionId: 343 });
		const texts = Object.values(obj(result.message)).map((m) => obj(m).text);
		expect(texts.sort()).toEqual(
			['Hi, where is my order #1045?', 'Hello! Let me check [b]#1045[/b].', 'Thanks'].sort(),
		);
		expect(obj(result.users)[String(CUSTOMERS.GUEST)]).toMatchObject({ connector: true });
		expect(obj(result.users)[String(BOTS.SUPPORT_BOT)]).toMatchObject({ bot: true });
	});

	it.each([
		['neither parameter', {}, 'MISSING_REQUIRED_PARAM'],
		['a chat without sessions', { CHAT_ID: 9999 }, 'INVALID_SESSION_ID'],
		['an unknown session', { SESSION_ID: 9999 }, 'ACCESS_DENIED'],
	])('refuses %s', async (_case, params, code) => {
		expect(errorOf(await call('imopenlines.session.history.get', params))).toEqual([400, code]);
	});
});

describe('one bot world: a bot registered over REST answers the customer who wrote to it', () => {
	const TOKEN = 'n8n-loop-5b1e0c7d9a2f';
	const CHAT = CHATS.LEAD_TELEGRAM_ACTIVE;

	it('the customer writes, the bot hears it, replies into that chat, hands over; all in the history', async () => {
		const registered = await call('imbot.v2.Bot.register', {
			fields: { code: 'n8n_loop', botToken: TOKEN, type: 'openline', properties: { name: 'Loop' } },
		});
		const botId = Number(obj(obj(obj(registered.body).result).bot).id);
		await call('imopenlines.config.update', {
			CONFIG_ID: OPEN_LINES.SUPPORT,
			PARAMS: { WELCOME_BOT_ENABLE: 'Y', WELCOME_BOT_ID: botId },
		});

		const { messageId } = emu.bots.customerWrites(CHAT, 'Where is my order?');
		const heard = obj(obj(await call('imbot.v2.Event.get', { botId, botToken: TOKEN })).body);
		const events = obj(heard.result).events as Array<{ type: string; data: ParamRecord }>;
		expect(events.map((e) => e.type)).toEqual(['ONIMBOTV2JOINCHAT', 'ONIMBOTV2MESSAGEADD']);
		expect(obj(events[1]?.data.message)).toMatchObject({ id: messageId, chatId: CHAT });

		const sent = await call(SEND, {
			botId,
			botToken: TOKEN,
			dialogId: `chat${CHAT}`,
			fields: { message: 'It ships today.' },
		});
		expect(sent.status).toBe(200);
		const handedOver = await call('imopenlines.bot.session.operator', { CHAT_ID: CHAT });
		expect(handedOver.body).toMatchObject({ result: true });

		expect(dialog(CHAT)).toMatchObject({ holder: 0 });
		expect(dialog(CHAT).members).not.toContain(botId);
		expect(emu.world.imbot.sessionEvents).toEqual([
			expect.objectContaining({ kind: 'operator', chatId: CHAT, botId }),
		]);
		const history = obj(
			obj((await call('imopenlines.session.history.get', { CHAT_ID: CHAT })).body).result,
		);
		const texts = Object.values(obj(history.message))
			.map((m) => obj(m))
			.sort((a, b) => Number(a.id) - Number(b.id))
			.map((m) => [Number(m.senderid), m.text]);
		expect(texts).toEqual([
			[dialog(CHAT).customerId, 'Where is my order?'],
			[botId, 'It ships today.'],
			[0, 'The chat bot has passed the dialog to an operator'],
		]);
		// The customer writes again: the dialog waits for an operator, the bot does not take it back.
		emu.bots.customerWrites(CHAT, 'Hello?');
		expect(dialog(CHAT)).toMatchObject({ holder: 0 });
	});

	it('after Finish the next customer message opens a new session that the welcome bot takes again', async () => {
		const botId = BOTS.SUPPORT_BOT;
		await call('imopenlines.config.update', {
			CONFIG_ID: OPEN_LINES.SUPPORT,
			PARAMS: { WELCOME_BOT_ENABLE: 'Y', WELCOME_BOT_ID: botId },
		});
		const finished = await call('imopenlines.bot.session.finish', {
			CHAT_ID: BOT_DIALOGS.WITH_BOT,
			CLIENT_ID: SUPPORT_BOT_TOKEN,
		});
		expect(finished.body).toMatchObject({ result: true });
		const before = dialog(BOT_DIALOGS.WITH_BOT).sessionId;

		emu.bots.customerWrites(BOT_DIALOGS.WITH_BOT, 'Me again');

		expect(dialog(BOT_DIALOGS.WITH_BOT)).toMatchObject({ holder: botId, sessionOpen: true });
		expect(dialog(BOT_DIALOGS.WITH_BOT).sessionIds).toEqual([before, expect.any(Number)]);
		const sent = await call(SEND, { ...asBot, fields: { message: 'Welcome back' } });
		expect(sent.status).toBe(200);
		const history = obj(
			obj((await call('imopenlines.session.history.get', { CHAT_ID: BOT_DIALOGS.WITH_BOT })).body)
				.result,
		);
		// Only the new session's messages, by ID: the customer's, then the bot's answer.
		expect(Object.values(obj(history.message)).map((m) => obj(m).text)).toEqual([
			'Me again',
			'Welcome back',
		]);
	});
});
