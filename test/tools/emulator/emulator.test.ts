/**
 * The emulator's REST methods and webhook auth, exercised over real HTTP.
 */
import {
	BOTS,
	CHATS,
	COMPANIES,
	CONTACTS,
	DEALS,
	FIRST_MESSAGE_ID,
	LEADS,
	MESSAGE_MAX_LENGTH,
	TRUNCATION_SUFFIX,
	USERS,
	WEBHOOK_CODE,
	createSeedWorld,
} from '../../../tools/emulator';
import { arr, obj, postJson, request, SEND, VALID } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();

const call = (method: string, params: unknown) => postJson(`${emu.webhookUrl}${method}`, params);

describe('imopenlines.crm.message.add', () => {
	it('accepts the documented example and records the message', async () => {
		const res = await call(SEND, VALID);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ result: FIRST_MESSAGE_ID });
		const time = obj(obj(res.body).time);
		for (const key of [
			'start',
			'finish',
			'duration',
			'processing',
			'operating_reset_at',
			'operating',
		]) {
			expect(typeof time[key]).toBe('number');
		}
		expect(time.date_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
		expect(emu.messages).toEqual([
			expect.objectContaining({
				id: FIRST_MESSAGE_ID,
				chatId: 1341,
				userId: 27,
				crmEntityType: 'lead',
				crmEntityId: 1195,
				message: 'Hello',
				authKind: 'webhook',
				viaBatch: false,
			}),
		]);
	});

	it('hands out increasing message ids', async () => {
		const first = await call(SEND, VALID);
		const second = await call(SEND, { ...VALID, USER_ID: BOTS.SUPPORT_BOT });
		expect([obj(first.body).result, obj(second.body).result]).toEqual([
			FIRST_MESSAGE_ID,
			FIRST_MESSAGE_ID + 1,
		]);
		expect(emu.messages.map((m) => m.userId)).toEqual([27, 39]);
	});

	it('accepts numeric strings, any-case entity types and every entity kind', async () => {
		const cases = [
			{ CRM_ENTITY_TYPE: 'LEAD', CRM_ENTITY: '1195', USER_ID: '27', CHAT_ID: '1341' },
			{
				CRM_ENTITY_TYPE: 'Deal',
				CRM_ENTITY: DEALS.ORDER_501,
				USER_ID: 27,
				CHAT_ID: CHATS.DEAL_TELEGRAM_ACTIVE,
			},
			{
				CRM_ENTITY_TYPE: 'contact',
				CRM_ENTITY: CONTACTS.PAVEL_CUSTOMER,
				USER_ID: 1,
				CHAT_ID: CHATS.CONTACT_WHATSAPP_ACTIVE,
			},
			{
				CRM_ENTITY_TYPE: 'company',
				CRM_ENTITY: COMPANIES.ACME,
				USER_ID: 27,
				CHAT_ID: CHATS.COMPANY_LIVECHAT_ACTIVE,
			},
		];
		for (const params of cases) {
			const res = await call(SEND, { ...params, MESSAGE: 'x' });
			expect(res.status).toBe(200);
		}
		expect(emu.messages.map((m) => `${m.crmEntityType}:${m.crmEntityId}:${m.chatId}`)).toEqual([
			'lead:1195:1341',
			'deal:501:1500',
			'contact:77:1600',
			'company:12:1700',
		]);
	});

	it.each([
		['everything missing', {}, 'CRM_ENTITY_TYPE'],
		['CRM_ENTITY missing', { CRM_ENTITY_TYPE: 'lead' }, 'CRM_ENTITY'],
		['USER_ID empty', { ...VALID, USER_ID: '' }, 'USER_ID'],
		['CHAT_ID null', { ...VALID, CHAT_ID: null }, 'CHAT_ID'],
		['USER_ID "0"', { ...VALID, USER_ID: '0' }, 'USER_ID'],
		['USER_ID 0', { ...VALID, USER_ID: 0 }, 'USER_ID'],
		['MESSAGE ""', { ...VALID, MESSAGE: '' }, 'MESSAGE'],
		['MESSAGE "0" (PHP\'s empty())', { ...VALID, MESSAGE: '0' }, 'MESSAGE'],
		['MESSAGE the number 0', { ...VALID, MESSAGE: 0 }, 'MESSAGE'],
		['MESSAGE missing', { ...VALID, MESSAGE: undefined }, 'MESSAGE'],
	])('400 "null or empty" when %s', async (_name, params, argument) => {
		const res = await call(SEND, params);
		expect(res.status).toBe(400);
		expect(res.body).toEqual({
			error: 'ERROR_ARGUMENT',
			error_description: `Argument '${argument}' is null or empty`,
			argument,
		});
		expect(emu.messages).toHaveLength(0);
	});

	it.each([
		['CRM_ENTITY', 'abc', {}],
		['CRM_ENTITY', '12abc', {}],
		['CRM_ENTITY', -5, {}],
		['USER_ID', '0x1B', {}],
		['CHAT_ID', '-1341', {}],
		['MESSAGE', { nested: 'object' }, {}],
		// Each argument's emptiness and type are checked in turn: the bad entity ID is met before the empty message.
		['CRM_ENTITY', 'abc', { MESSAGE: '' }],
	])('400 "invalid type" for %s = %p', async (argument, value, also) => {
		const res = await call(SEND, { ...VALID, [argument]: value, ...also });
		expect(res.status).toBe(400);
		expect(res.body).toEqual({
			error: 'ERROR_ARGUMENT',
			error_description: `The value of an argument '${argument}' has an invalid type`,
			argument,
		});
	});

	const CALLER_DENIED = 'Access denied! You dont have access to this action';
	const SENDER_DENIED = 'Access denied! User dont have access to this entity';
	it.each([
		[
			'the caller cannot read the entity',
			{ CRM_ENTITY: LEADS.RESTRICTED, CHAT_ID: CHATS.RESTRICTED_LEAD_CHAT, USER_ID: 1 },
			CALLER_DENIED,
		],
		['the entity does not exist', { CRM_ENTITY: 999999 }, CALLER_DENIED],
		[
			'USER_ID cannot read the entity',
			{ CRM_ENTITY_TYPE: 'deal', CRM_ENTITY: 501, CHAT_ID: 1500, USER_ID: USERS.MARIA_MANAGER },
			SENDER_DENIED,
		],
		['USER_ID does not exist', { USER_ID: 999 }, SENDER_DENIED],
	])('403 ACCESS_DENIED when %s', async (_name, override, description) => {
		const res = await call(SEND, { ...VALID, ...override });
		expect(res.status).toBe(403);
		expect(res.body).toEqual({ error: 'ACCESS_DENIED', error_description: description });
	});

	it.each([
		['the chat belongs to another entity', { CHAT_ID: CHATS.LEAD2_LIVECHAT_ACTIVE }],
		['the dialog is finished', { CHAT_ID: CHATS.LEAD_WHATSAPP_FINISHED }],
		['the dialog is new (unanswered)', { CHAT_ID: CHATS.LEAD_LIVECHAT_NEW, USER_ID: 1 }],
		['the chat does not exist', { CHAT_ID: 424242 }],
		['the entity type differs', { CRM_ENTITY_TYPE: 'deal', CRM_ENTITY: 501, CHAT_ID: 1341 }],
	])('400 CHAT_NOT_IN_CRM when %s', async (_name, override) => {
		const res = await call(SEND, { ...VALID, ...override });
		expect(res.status).toBe(400);
		expect(res.body).toEqual({
			error: 'CHAT_NOT_IN_CRM',
			error_description: 'Chat does not belong to the CRM entity being checked',
		});
	});

	it('400 CHAT_NOT_IN_CRM once a dialog moves to closing (live world edit)', async () => {
		const chat = emu.world.chats.find((c) => c.id === 1341);
		if (!chat) throw new Error('seed chat missing');
		chat.status = 'closing';
		const res = await call(SEND, VALID);
		expect(obj(res.body).error).toBe('CHAT_NOT_IN_CRM');
	});

	it.each([
		['a user who is not a member', USERS.MARIA_MANAGER],
		['a bot that is not a member', BOTS.SURVEY_BOT],
	])('400 CANCELED for %s', async (_name, userId) => {
		const res = await call(SEND, { ...VALID, USER_ID: userId });
		expect(res.status).toBe(400);
		expect(res.body).toEqual({
			error: 'CANCELED',
			error_description: 'You cannot send messages to the specified chat',
		});
		expect(emu.messages).toHaveLength(0);
	});

	it('stores messages up to 20,000 characters unchanged and truncates longer ones with " (...)"', async () => {
		const exact = 'a'.repeat(MESSAGE_MAX_LENGTH);
		const long = '😀'.repeat(MESSAGE_MAX_LENGTH + 5); // code points, not UTF-16 units
		await call(SEND, { ...VALID, MESSAGE: exact });
		await call(SEND, { ...VALID, MESSAGE: long });
		expect(emu.messages[0]?.message).toBe(exact);
		expect(emu.messages[1]?.message).toBe('😀'.repeat(MESSAGE_MAX_LENGTH) + TRUNCATION_SUFFIX);
	});

	it('keeps the exact text (leading spaces, BB codes, newlines, emoji)', async () => {
		const text =
			'  [b]Order[/b] shipped\n[url=https://example.com/?a=1&b=2]track[/url] 😀 Привет  ';
		await call(SEND, { ...VALID, MESSAGE: text });
		expect(emu.messages[0]?.message).toBe(text);
	});
});

describe('request encodings', () => {
	const TRICKY = 'Hi & bye = 1 + 1 %20 #x [b]bold[/b]\n😀 Привет';

	it('form-urlencoded body', async () => {
		const form = new URLSearchParams({
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: '1195',
			USER_ID: '27',
			CHAT_ID: '1341',
			MESSAGE: TRICKY,
		});
		const res = await request(`${emu.webhookUrl}${SEND}.json`, { body: { form } });
		expect(res.status).toBe(200);
		expect(emu.messages[0]?.message).toBe(TRICKY);
	});

	it('GET with a query string', async () => {
		const query = new URLSearchParams({
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: '1195',
			USER_ID: '27',
			CHAT_ID: '1341',
			MESSAGE: TRICKY,
		});
		const res = await request(`${emu.webhookUrl}${SEND}?${query.toString()}`);
		expect(res.status).toBe(200);
		expect(emu.messages[0]?.message).toBe(TRICKY);
	});

	it('merges query and body, the body winning', async () => {
		const res = await postJson(`${emu.webhookUrl}${SEND}?CRM_ENTITY_TYPE=lead&MESSAGE=from-query`, {
			CRM_ENTITY: 1195,
			USER_ID: 27,
			CHAT_ID: 1341,
			MESSAGE: 'from-body',
		});
		expect(res.status).toBe(200);
		expect(emu.messages[0]?.message).toBe('from-body');
		expect(emu.requests[0]?.params).toMatchObject({
			CRM_ENTITY_TYPE: 'lead',
			MESSAGE: 'from-body',
		});
	});

	it('matches method names case-insensitively and with .json', async () => {
		const res = await call('IMOPENLINES.CRM.MESSAGE.ADD.json', VALID);
		expect(res.status).toBe(200);
		expect(emu.requests[0]).toMatchObject({ restMethod: SEND, authKind: 'webhook', status: 200 });
	});

	it('records every request with its raw body and headers', async () => {
		await call(SEND, { ...VALID, USER_ID: 'nope' });
		expect(emu.requests).toHaveLength(1);
		const [recorded] = emu.requests;
		expect(recorded).toMatchObject({
			httpMethod: 'POST',
			path: `/rest/1/${WEBHOOK_CODE}/${SEND}`,
			restMethod: SEND,
			status: 400,
			error: 'ERROR_ARGUMENT',
		});
		expect(recorded?.rawBody).toBe(JSON.stringify({ ...VALID, USER_ID: 'nope' }));
		expect(recorded?.headers['content-type']).toBe('application/json');
	});
});

describe('webhook auth', () => {
	it('401 INVALID_CREDENTIALS for a wrong code or a wrong user', async () => {
		for (const url of [
			`${emu.baseUrl}/rest/1/wrongcode/user.current`,
			`${emu.baseUrl}/rest/27/${WEBHOOK_CODE}/user.current`,
		]) {
			const res = await request(url);
			expect(res.status).toBe(401);
			expect(res.body).toEqual({
				error: 'INVALID_CREDENTIALS',
				error_description: 'Invalid request credentials',
			});
		}
	});

	it('401 insufficient_scope for imopenlines through the crm+user webhook; its own scopes work', async () => {
		const denied = await postJson(`${emu.limitedWebhookUrl}${SEND}`, VALID);
		expect(denied.status).toBe(401);
		expect(denied.body).toEqual({
			error: 'insufficient_scope',
			error_description:
				'The request requires higher privileges than provided by the webhook token',
		});
		expect((await request(`${emu.limitedWebhookUrl}imbot.bot.list`)).status).toBe(401);
		expect((await request(`${emu.limitedWebhookUrl}user.current`)).status).toBe(200);
		expect(
			(await postJson(`${emu.limitedWebhookUrl}crm.item.list`, { entityTypeId: 1 })).status,
		).toBe(200);
		expect(obj((await request(`${emu.limitedWebhookUrl}scope`)).body).result).toEqual([
			'crm',
			'user',
		]);
		expect(emu.messages).toHaveLength(0);
	});

	it('404 ERROR_METHOD_NOT_FOUND for unknown methods (including an empty one)', async () => {
		for (const method of ['imopenlines.crm.message.send', '']) {
			const res = await request(`${emu.webhookUrl}${method}`);
			expect(res.status).toBe(404);
			expect(res.body).toEqual({
				error: 'ERROR_METHOD_NOT_FOUND',
				error_description: 'Method not found!',
			});
		}
	});

	it('errors carry no time block', async () => {
		const res = await request(`${emu.baseUrl}/rest/1/wrongcode/user.current`);
		expect(obj(res.body)).not.toHaveProperty('time');
	});
});

describe('lookup methods', () => {
	it('user.current returns the webhook owner with string IDs', async () => {
		const res = await request(`${emu.webhookUrl}user.current`);
		expect(res.body).toMatchObject({
			result: { ID: '1', NAME: 'Anna', LAST_NAME: 'Admin', ACTIVE: true },
		});
	});

	it('imopenlines.crm.chat.get: active chats by default, all with ACTIVE_ONLY=N, newest activity first', async () => {
		const active = await call('imopenlines.crm.chat.get', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
		});
		expect(obj(active.body).result).toEqual([
			{ CHAT_ID: '1341', CONNECTOR_ID: 'telegrambot', CONNECTOR_TITLE: 'Telegram' },
		]);

		const all = await call('imopenlines.crm.chat.get', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: '1195',
			ACTIVE_ONLY: 'N',
		});
		expect(obj(all.body).result).toEqual([
			{ CHAT_ID: '1343', CONNECTOR_ID: 'livechat', CONNECTOR_TITLE: 'Live Chat' },
			{ CHAT_ID: '1342', CONNECTOR_ID: 'whatsapp', CONNECTOR_TITLE: 'WhatsApp' },
			{ CHAT_ID: '1341', CONNECTOR_ID: 'telegrambot', CONNECTOR_TITLE: 'Telegram' },
		]);

		// Only the exact string "N" disables the filter.
		for (const flag of ['n', 'false', '0', 'Y']) {
			const res = await call('imopenlines.crm.chat.get', {
				CRM_ENTITY_TYPE: 'lead',
				CRM_ENTITY: 1195,
				ACTIVE_ONLY: flag,
			});
			expect(obj(res.body).result).toHaveLength(1);
		}
	});

	it('imopenlines.crm.chat.get: [] without chats, errors for bad input and forbidden entities', async () => {
		const none = await call('imopenlines.crm.chat.get', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: LEADS.NO_CHATS,
		});
		expect(obj(none.body).result).toEqual([]);
		const missingType = await call('imopenlines.crm.chat.get', { CRM_ENTITY: 1 });
		expect(missingType.body).toMatchObject({
			error: 'ERROR_ARGUMENT',
			argument: 'CRM_ENTITY_TYPE',
		});
		const missing = await call('imopenlines.crm.chat.get', { CRM_ENTITY_TYPE: 'lead' });
		expect(missing.body).toMatchObject({ error: 'ERROR_ARGUMENT', argument: 'CRM_ENTITY' });
		const forbidden = await call('imopenlines.crm.chat.get', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: LEADS.RESTRICTED,
		});
		expect(forbidden.status).toBe(403);
	});

	it('imopenlines.crm.chat.getLastId ignores dialog status; 400 CRM_CHAT_EMPTY_CRM_DATA when none', async () => {
		const last = await call('imopenlines.crm.chat.getLastId', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
		});
		expect(obj(last.body).result).toBe(CHATS.LEAD_LIVECHAT_NEW);
		const none = await call('imopenlines.crm.chat.getLastId', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: LEADS.NO_CHATS,
		});
		expect(none.status).toBe(400);
		expect(obj(none.body).error).toBe('CRM_CHAT_EMPTY_CRM_DATA');
	});

	it('imopenlines.crm.chat.user.add joins a user to a chat, which then lets them send', async () => {
		const before = await call(SEND, { ...VALID, USER_ID: USERS.MARIA_MANAGER });
		expect(obj(before.body).error).toBe('CANCELED');

		const added = await call('imopenlines.crm.chat.user.add', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: 31,
			CHAT_ID: 1341,
		});
		expect(obj(added.body).result).toBe(1341);
		expect(emu.world.chats.find((c) => c.id === 1341)?.members).toContain(31);

		const after = await call(SEND, { ...VALID, USER_ID: USERS.MARIA_MANAGER });
		expect(after.status).toBe(200);

		const removed = await call('imopenlines.crm.chat.user.delete', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: 31,
			CHAT_ID: 1341,
		});
		expect(obj(removed.body).result).toBe(1341);
		expect(obj((await call(SEND, { ...VALID, USER_ID: 31 })).body).error).toBe('CANCELED');
	});

	it('imopenlines.crm.chat.user.add: the last chat without CHAT_ID (refused unless in progress), 0 without chats, CHAT_NOT_IN_CRM for foreign chats', async () => {
		const newest = await call('imopenlines.crm.chat.user.add', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1196,
			USER_ID: BOTS.SUPPORT_BOT,
		});
		expect(obj(newest.body).result).toBe(CHATS.LEAD2_LIVECHAT_ACTIVE);
		// Lead 1195's last active chat is a new dialog: not one of its chats in progress.
		const lastIsNew = await call('imopenlines.crm.chat.user.add', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: BOTS.SUPPORT_BOT,
		});
		expect(obj(lastIsNew.body).error).toBe('CHAT_NOT_IN_CRM');
		const none = await call('imopenlines.crm.chat.user.add', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: LEADS.NO_CHATS,
			USER_ID: 27,
		});
		expect(obj(none.body).result).toBe(0);
		const foreign = await call('imopenlines.crm.chat.user.add', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: 27,
			CHAT_ID: 1500,
		});
		expect(obj(foreign.body).error).toBe('CHAT_NOT_IN_CRM');
	});

	it('user.search: FIND matches names case-insensitively; bots are never listed', async () => {
		const oper = await call('user.search', { FILTER: { FIND: 'oper' } });
		expect(oper.body).toMatchObject({
			result: [{ ID: '27', NAME: 'Oleg', LAST_NAME: 'Operator', ACTIVE: true }],
			total: 1,
		});
		expect(obj(oper.body)).not.toHaveProperty('next');

		const full = await request(
			`${emu.webhookUrl}user.search?FILTER[FIND]=${encodeURIComponent('MARIA man')}`,
		);
		expect(obj(full.body).result).toEqual([expect.objectContaining({ ID: '31' })]);

		const bot = await call('user.search', { FILTER: { FIND: 'bot' } });
		expect(bot.body).toMatchObject({ result: [], total: 0 });
	});

	it('user.get / user.search: ACTIVE and ID filters', async () => {
		const inactive = await request(`${emu.webhookUrl}user.get?FILTER[ACTIVE]=N`);
		expect(arr(obj(inactive.body).result).map((u) => obj(u).ID)).toEqual(['45']);
		const active = await call('user.get', { FILTER: { ACTIVE: true } });
		expect(arr(obj(active.body).result).map((u) => obj(u).ID)).toEqual(['1', '27', '31']);
		const byId = await call('user.get', { ID: 27 });
		expect(arr(obj(byId.body).result).map((u) => obj(u).ID)).toEqual(['27']);
	});

	it('user.search pages by 50 with start/next/total', async () => {
		for (let i = 0; i < 120; i++) {
			emu.world.users.push({
				id: 1000 + i,
				name: `Temp${i}`,
				lastName: 'Agent',
				active: true,
				email: `t${i}@example.com`,
				workPosition: '',
			});
		}
		const first = await call('user.search', { FILTER: { FIND: 'agent' } });
		expect(obj(first.body)).toMatchObject({ total: 120, next: 50 });
		expect(obj(first.body).result).toHaveLength(50);
		const last = await call('user.search', { FILTER: { FIND: 'agent' }, start: 100 });
		expect(obj(last.body)).toMatchObject({ total: 120 });
		expect(obj(last.body)).not.toHaveProperty('next');
		expect(obj(arr(obj(last.body).result)[0]).ID).toBe('1100');
		const all = await call('user.get', { start: 50 });
		expect(obj(all.body)).toMatchObject({ total: 124, next: 100 });
	});

	it('imbot.bot.list is keyed by bot id, [] when there are none', async () => {
		const bots = await request(`${emu.webhookUrl}imbot.bot.list`);
		expect(obj(bots.body).result).toEqual({
			'39': expect.objectContaining({ ID: 39, NAME: 'SupportBot', CODE: 'supportbot' }),
			'40': expect.objectContaining({ ID: 40, NAME: 'SurveyBot', CODE: 'surveybot' }),
		});
		emu.world.imbot.registered = [];
		expect(obj((await request(`${emu.webhookUrl}imbot.bot.list`)).body).result).toEqual([]);
	});

	it('crm.item.list lists readable items per entity type', async () => {
		const leads = await call('crm.item.list', { entityTypeId: 1 });
		const ids = arr(obj(obj(leads.body).result).items).map((i) => obj(i).id);
		expect(ids).toEqual([1195, 1196, 1197]); // 1198 is hidden from the caller
		const deals = await call('crm.item.list', { entityTypeId: '2' });
		expect(obj(obj(deals.body).result).items).toEqual([
			expect.objectContaining({ id: 501, title: 'Order #501' }),
		]);
		const unknown = await call('crm.item.list', { entityTypeId: 99 });
		expect(unknown.status).toBe(400);
	});
});

describe('world', () => {
	it('createSeedWorld returns independent deep copies', () => {
		const a = createSeedWorld();
		const b = createSeedWorld();
		a.chats[0]?.members.push(999);
		a.users.pop();
		expect(b.chats[0]?.members).toEqual([1, 27, 39]);
		expect(b.users).toHaveLength(4);
	});

	it('reset() restores the seed and empties records in place', async () => {
		const messages = emu.messages;
		await call(SEND, VALID);
		emu.world.chats = [];
		emu.reset();
		expect(messages).toHaveLength(0);
		expect(emu.requests).toHaveLength(0);
		expect(emu.world.chats).toHaveLength(12);
		expect(emu.world.portal.restAvailable).toBe(true);
		expect(obj((await call(SEND, VALID)).body).result).toBe(FIRST_MESSAGE_ID);
	});
});
