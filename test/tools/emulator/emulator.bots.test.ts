/**
 * imbot.v2 bots, open channels and bot events in the emulator, over real HTTP: registration and its auth rules,
 * webhook delivery (form-encoded, application_token), the fetch queue with its offset, the lines' welcome bot.
 */
import {
	CHATS,
	OPEN_LINES,
	startEventReceiver,
	type EventReceiver,
	type ParamRecord,
	SEEDED_BOT_IDS,
} from '../../../tools/emulator';
import { obj, postJson } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();
let receiver: EventReceiver;
beforeAll(async () => {
	receiver = await startEventReceiver();
});
afterAll(async () => await receiver.close());
beforeEach(() => {
	receiver.received.length = 0;
	receiver.answerWith(200);
});

const TOKEN = 'n8n-7f3a9c2e51b04d6b';
const call = (method: string, params: unknown) => postJson(`${emu.webhookUrl}${method}`, params);
const result = (body: unknown) => obj(obj(body).result);
/** The bots registered in this test (the portal's seeded bots aside). */
const registered = () => emu.world.imbot.registered.filter((b) => !SEEDED_BOT_IDS.includes(b.id));

async function registerBot(fields: Record<string, unknown> = {}, token = TOKEN): Promise<number> {
	const res = await call('imbot.v2.Bot.register', {
		fields: {
			code: 'n8n_ol_bot',
			botToken: token,
			type: 'openline',
			eventMode: 'webhook',
			webhookUrl: receiver.url,
			properties: { name: 'Support Bot' },
			...fields,
		},
	});
	expect(res.status).toBe(200);
	return Number(obj(result(res.body).bot).id);
}

async function attach(botId: number, lineId: number = OPEN_LINES.SUPPORT): Promise<void> {
	const res = await call('imopenlines.config.update', {
		CONFIG_ID: lineId,
		PARAMS: { WELCOME_BOT_ENABLE: 'Y', WELCOME_BOT_ID: botId, WELCOME_BOT_JOIN: 'always' },
	});
	expect(res.body).toMatchObject({ result: true });
}

describe('imbot.v2.Bot.* auth and identity', () => {
	it('needs a botToken under an inbound webhook, and registers once per code and token', async () => {
		const missing = await call('imbot.v2.Bot.register', {
			fields: { code: 'x', properties: { name: 'X' } },
		});
		expect(missing.status).toBe(400);
		expect(missing.body).toMatchObject({ error: 'BOT_TOKEN_NOT_SPECIFIED' });

		const id = await registerBot();
		// Idempotent by code within the application: the same bot, unchanged even though fields differ.
		const again = await registerBot({ properties: { name: 'Renamed' }, eventMode: 'fetch' });
		expect(again).toBe(id);
		expect(registered()).toHaveLength(1);
		expect(registered()[0]).toMatchObject({ eventMode: 'webhook' });

		const taken = await call('imbot.v2.Bot.register', {
			fields: { code: 'n8n_ol_bot', botToken: 'another-token', properties: { name: 'X' } },
		});
		expect(taken.body).toMatchObject({ error: 'BOT_CODE_ALREADY_TAKEN' });
		const long = await call('imbot.v2.Bot.register', {
			fields: { code: 'y', botToken: 'x'.repeat(41), properties: { name: 'Y' } },
		});
		expect(long.body).toMatchObject({ error: 'BOT_TOKEN_INVALID_LENGTH' });
	});

	it('gets by code for the owner, refuses another token (400 BOT_OWNERSHIP_ERROR), lists only its own', async () => {
		const id = await registerBot();
		const byCode = await call('imbot.v2.Bot.get', { code: 'n8n_ol_bot', botToken: TOKEN });
		expect(obj(result(byCode.body).bot)).toMatchObject({ id, eventMode: 'webhook' });
		const foreign = await call('imbot.v2.Bot.update', {
			botId: id,
			botToken: 'not-the-owner',
			fields: { eventMode: 'fetch' },
		});
		expect(foreign.status).toBe(400);
		expect(foreign.body).toMatchObject({ error: 'BOT_OWNERSHIP_ERROR' });
		const mine = await call('imbot.v2.Bot.list', { botToken: TOKEN });
		expect(result(mine.body).bots).toEqual([expect.objectContaining({ id })]);
		const theirs = await call('imbot.v2.Bot.list', { botToken: 'not-the-owner' });
		expect(result(theirs.body).bots).toEqual([]);
	});

	it('needs no botToken over OAuth: the app owns its bots', async () => {
		const { access_token: token } = emu.issueOAuthTokens();
		const res = await postJson(`${emu.baseUrl}/rest/imbot.v2.Bot.register`, {
			auth: token,
			fields: { code: 'oauth_bot', type: 'openline', properties: { name: 'OAuth Bot' } },
		});
		expect(res.status).toBe(200);
		expect(registered()[0]).toMatchObject({ owner: expect.stringMatching(/^app:/) });
	});
});

describe('events of a bot attached to an open channel', () => {
	it('webhook mode: JOINCHAT then MESSAGEADD, form-encoded strings with the bot application_token', async () => {
		const botId = await registerBot();
		await attach(botId);
		const lines = await call('imopenlines.config.list.get', {
			PARAMS: { select: ['ID', 'WELCOME_BOT_ID'], filter: { ACTIVE: 'Y' } },
		});
		expect(obj(lines.body).result).toEqual([
			{ ID: '1', WELCOME_BOT_ID: String(botId) },
			{ ID: '2', WELCOME_BOT_ID: '0' },
		]);

		const { messageId } = emu.bots.customerWrites(
			CHATS.LEAD_TELEGRAM_ACTIVE,
			'Hi, where is my order #1045?',
		);
		await emu.bots.settled();
		expect(receiver.received.map((r) => r.params.event)).toEqual([
			'ONIMBOTV2JOINCHAT',
			'ONIMBOTV2MESSAGEADD',
		]);
		const [join, add] = receiver.received;
		expect(add?.contentType).toBe('application/x-www-form-urlencoded');
		const token = registered()[0]?.applicationToken;
		const data = obj(add?.params.data);
		expect(obj(add?.params.auth)).toMatchObject({ application_token: token });
		expect(obj(data.bot)).toMatchObject({ id: String(botId), code: 'n8n_ol_bot' });
		expect(obj(data.message)).toMatchObject({
			id: String(messageId),
			chatId: String(CHATS.LEAD_TELEGRAM_ACTIVE),
			text: 'Hi, where is my order #1045?',
			isSystem: '0',
		});
		const chat = obj(data.chat);
		expect(chat).toMatchObject({ dialogId: 'chat1341', entityType: 'LINES' });
		expect(String(chat.entityId)).toMatch(/^telegrambot\|1\|\d+\|\d+$/);
		expect(String(chat.entityData1)).toMatch(/^Y\|LEAD\|1195\|N\|N\|\d+\|/);
		expect(obj(data.user)).toMatchObject({ connector: '1', bot: '0' });
		expect(obj(obj(join?.params.data).user)).toMatchObject({ connector: '1' });
		// Empty containers are left out, as PHP's http_build_query does.
		expect(add?.raw).not.toContain('departments');
	});

	it('an operator message reaches the bot; the bot hears nothing in lines it is not attached to', async () => {
		const botId = await registerBot();
		await attach(botId);
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'hello');
		emu.bots.customerWrites(CHATS.DEAL_TELEGRAM_ACTIVE, 'sales line, no bot');
		await call('imopenlines.crm.message.add', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: 27,
			CHAT_ID: CHATS.LEAD_TELEGRAM_ACTIVE,
			MESSAGE: 'Operator here',
		});
		await emu.bots.settled();
		const texts = receiver.received
			.filter((r) => r.params.event === 'ONIMBOTV2MESSAGEADD')
			.map((r) => obj(obj(r.params.data).message).text);
		expect(texts).toEqual(['hello', 'Operator here']);
	});

	it('fetch mode: Event.get acknowledges below the offset, pages with limit, nothing is POSTed', async () => {
		const botId = await registerBot({ eventMode: 'fetch', webhookUrl: undefined });
		await attach(botId);
		const get = async (extra: Record<string, unknown>) =>
			result((await call('imbot.v2.Event.get', { botId, botToken: TOKEN, ...extra })).body);

		const empty = await get({});
		expect(empty).toMatchObject({ events: [], nextOffset: 0, hasMore: false });
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'one');
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'two');
		const first = await get({ limit: 2 });
		const events = first.events as Array<{ eventId: number; type: string; data: ParamRecord }>;
		expect(events.map((e) => e.type)).toEqual(['ONIMBOTV2JOINCHAT', 'ONIMBOTV2MESSAGEADD']);
		expect(first.hasMore).toBe(true);
		// Typed values in fetch mode, the full bot object.
		expect(obj(events[1]?.data.message)).toMatchObject({ text: 'one', isSystem: false });
		expect(obj(events[1]?.data.bot)).toMatchObject({ id: botId, eventMode: 'fetch' });
		// Not acknowledged yet: the same events again.
		expect((await get({ limit: 2 })).events).toEqual(first.events);
		const next = await get({ offset: first.nextOffset });
		expect(
			(next.events as Array<{ data: ParamRecord }>).map((e) => obj(e.data.message).text),
		).toEqual(['two']);
		const drained = await get({ offset: next.nextOffset });
		expect(drained).toMatchObject({ events: [], nextOffset: next.nextOffset, hasMore: false });
		await emu.bots.settled();
		expect(receiver.received).toEqual([]);
	});

	it('switching to fetch stops the POSTs; unregister sends ONIMBOTV2DELETE and the bot is gone', async () => {
		const botId = await registerBot();
		await attach(botId);
		await call('imbot.v2.Bot.update', { botId, botToken: TOKEN, fields: { eventMode: 'fetch' } });
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'queued');
		await emu.bots.settled();
		expect(receiver.received).toEqual([]);
		expect(emu.world.imbot.queue.filter((e) => e.botId === botId)).toHaveLength(2);

		await call('imbot.v2.Bot.update', {
			botId,
			botToken: TOKEN,
			fields: { eventMode: 'webhook', webhookUrl: receiver.url },
		});
		const gone = await call('imbot.v2.Bot.unregister', { botId, botToken: TOKEN });
		expect(gone.body).toMatchObject({ result: { result: true } });
		await emu.bots.settled();
		expect(receiver.received.map((r) => r.params.event)).toEqual(['ONIMBOTV2DELETE']);
		const after = await call('imbot.v2.Event.get', { botId, botToken: TOKEN });
		expect(after.body).toMatchObject({ error: 'BOT_NOT_FOUND' });
		expect(emu.world.chats.find((c) => c.id === CHATS.LEAD_TELEGRAM_ACTIVE)?.members).not.toContain(
			botId,
		);
	});

	it('rotation gives a new application_token and refuses the old bot token', async () => {
		const botId = await registerBot();
		const before = registered()[0]?.applicationToken;
		await call('imbot.v2.Bot.update', {
			botId,
			botToken: TOKEN,
			fields: { botToken: 'rotated-token' },
		});
		expect(registered()[0]?.applicationToken).not.toBe(before);
		const old = await call('imbot.v2.Bot.get', { botId, botToken: TOKEN });
		expect(obj(result(old.body).bot).eventMode).toBeUndefined();
		const refused = await call('imbot.v2.Event.get', { botId, botToken: TOKEN });
		expect(refused.body).toMatchObject({ error: 'BOT_OWNERSHIP_ERROR' });
	});

	it('a finished dialog opens a new session on the next customer message; the control API writes as a customer', async () => {
		const botId = await registerBot();
		await attach(botId);
		const session = emu.world.imbot.dialogs.find(
			(d) => d.chatId === CHATS.LEAD_WHATSAPP_FINISHED,
		)?.sessionId;
		const res = await postJson(`${emu.baseUrl}/_emulator/customer-message`, {
			chatId: CHATS.LEAD_WHATSAPP_FINISHED,
			text: 'back again',
		});
		expect(res.status).toBe(200);
		await emu.bots.settled();
		const dialog = emu.world.imbot.dialogs.find((d) => d.chatId === CHATS.LEAD_WHATSAPP_FINISHED);
		expect(dialog?.sessionId).not.toBe(session);
		expect(dialog?.holder).toBe(botId);
		const add = receiver.received.find((r) => r.params.event === 'ONIMBOTV2MESSAGEADD');
		expect(String(obj(obj(add?.params.data).chat).entityData1).split('|')[5]).toBe(
			String(dialog?.sessionId),
		);
	});
});
