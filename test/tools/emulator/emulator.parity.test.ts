/**
 * The emulator answers as Bitrix24's own server code does (yuliai/bitrix-modules @ a3a2a579): each block names
 * the file and function it follows. Over real HTTP.
 */
import {
	BOTS,
	CHATS,
	FIRST_MESSAGE_ID,
	LEADS,
	QUOTES,
	USERS,
	WEBHOOK_CODE,
	startEmulator,
} from '../../../tools/emulator';
import { arr, obj, postJson, request } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const SEND = 'imopenlines.crm.message.add';
const ADD_USER = 'imopenlines.crm.chat.user.add';
const VALID = {
	CRM_ENTITY_TYPE: 'lead',
	CRM_ENTITY: 1195,
	USER_ID: 27,
	CHAT_ID: 1341,
	MESSAGE: 'Hello',
};

/** A batch command with the parameters percent-encoded, as the node and the SDKs build them. */
const command = (method: string, params: Record<string, string | number>): string =>
	`${method}?${Object.entries(params)
		.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
		.join('&')}`;

const emu = useEmulator();

const call = (method: string, params: unknown, url = emu.webhookUrl) =>
	postJson(`${url}${method}`, params);
const batch = async (body: unknown, url = emu.webhookUrl) => {
	const res = await postJson(`${url}batch`, body);
	expect(res.status).toBe(200);
	return obj(obj(res.body).result);
};
const posted = () => emu.messages.map((m) => m.message);

describe('batch substitution (rest_util.php::CRestUtil::ParseBatchQuery, processBatchElement)', () => {
	/** c0 answers 1400 (lead 1196's chat), so `$result[c0]` has something to reach. */
	const lastIdOfLead1196 = command('imopenlines.crm.chat.getLastId', {
		CRM_ENTITY_TYPE: 'lead',
		CRM_ENTITY: 1196,
	});

	it('replaces a reference to an earlier answer inside text, the run up to the next space with it: "Total: $result[c0]." posts "Total: 1400"', async () => {
		await batch({
			cmd: {
				c0: lastIdOfLead1196,
				c1: command(SEND, { ...VALID, MESSAGE: 'Total: $result[c0]. Next: $result[c0] !' }),
			},
		});
		expect(posted()).toEqual(['Total: 1400 Next: 1400 !']);
	});

	it('does the same to the text the node would send for two items (keys item0_1, item1_2)', async () => {
		const text = 'Debug: $result[item0_1] and $time[item0_1][x]';
		await batch({
			cmd: {
				item0_1: command(SEND, { ...VALID, MESSAGE: 'Hello' }),
				item1_2: command(SEND, { ...VALID, MESSAGE: text }),
			},
		});
		// `$time[item0_1][x]` reaches the time block (a list), which leaves it as it is.
		expect(posted()).toEqual(['Hello', `Debug: ${FIRST_MESSAGE_ID} and $time[item0_1][x]`]);
		// Sent alone, the same text is stored byte for byte: only a batch rewrites.
		await call(SEND, { ...VALID, MESSAGE: text });
		expect(posted()[2]).toBe(text);
	});

	it('cannot be escaped: a percent-encoded dollar sign is decoded (parse_str) before the scan', async () => {
		await batch({
			cmd: {
				c0: lastIdOfLead1196,
				c1: `${SEND}?${new URLSearchParams({ ...VALID, CRM_ENTITY: '1195', USER_ID: '27', CHAT_ID: '1341' }).toString()}&MESSAGE=%24result%5Bc0%5D%20left`,
			},
		});
		expect(posted()).toEqual(['1400 left']);
	});

	it('turns a value that is all one reference into what it reaches: here the empty result list, so the message is empty', async () => {
		const inner = await batch({
			cmd: { c0: command(SEND, { ...VALID, MESSAGE: '$result[nothing]' }) },
		});
		expect(obj(inner.result_error).c0).toEqual({
			error: 'ERROR_ARGUMENT',
			error_description: "Argument 'MESSAGE' is null or empty",
			argument: 'MESSAGE',
		});
		expect(posted()).toEqual([]);
	});

	it('matches a kind in any case but looks it up as written: $RESULT[c0] reaches nothing and stays', async () => {
		await batch({
			cmd: { c0: lastIdOfLead1196, c1: command(SEND, { ...VALID, MESSAGE: 'Id $RESULT[c0]' }) },
		});
		expect(posted()).toEqual(['Id $RESULT[c0]']);
	});

	it("after a failure, the failed command's argument and error code can be reached too (the closing bracket of the run goes with the match)", async () => {
		await batch({
			cmd: {
				c0: command(SEND, { ...VALID, CRM_ENTITY: 'abc' }),
				c1: command(SEND, { ...VALID, MESSAGE: 'Bad: $argument[c0] ($error[c0][error])' }),
			},
		});
		expect(posted()).toEqual(['Bad: CRM_ENTITY (ERROR_ARGUMENT']);
	});
});

describe('the order of the checks (rest.php::CRestServer::processExecution, apauth/auth.php, oauth/auth.php)', () => {
	it('a closed portal answers 403 PORTAL_DELETED before the method lookup and auth', async () => {
		emu.world.portal.closed = true;
		const res = await request(`${emu.baseUrl}/rest/1/wrongcode/no.such.method`);
		expect(res.status).toBe(403);
		expect(res.body).toEqual({ error: 'PORTAL_DELETED', error_description: 'Portal was deleted' });
	});

	it('an unknown method is 404 before auth, even with a wrong code', async () => {
		const res = await request(`${emu.baseUrl}/rest/1/wrongcode/no.such.method`);
		expect(res.status).toBe(404);
		expect(obj(res.body).error).toBe('ERROR_METHOD_NOT_FOUND');
	});

	it('a deactivated webhook answers as a deleted one: 401 INVALID_CREDENTIALS', async () => {
		const hook = emu.world.webhooks.find((w) => w.code === WEBHOOK_CODE);
		if (hook) hook.active = false;
		const res = await call(SEND, VALID);
		expect(res.status).toBe(401);
		expect(res.body).toEqual({
			error: 'INVALID_CREDENTIALS',
			error_description: 'Invalid request credentials',
		});
	});

	it('a webhook over plain http where https is required: 401 INVALID_REQUEST "Https required.", first of all', async () => {
		emu.world.portal.httpsRequired = true;
		const res = await request(`${emu.baseUrl}/rest/1/wrongcode/user.current`);
		expect(res.status).toBe(401);
		expect(res.body).toEqual({ error: 'INVALID_REQUEST', error_description: 'Https required.' });
		// OAuth calls are not concerned.
		const { access_token: token } = emu.issueOAuthTokens();
		expect(
			(
				await request(`${emu.baseUrl}/rest/user.current`, {
					headers: { authorization: `Bearer ${token}` },
				})
			).status,
		).toBe(200);
	});

	it('a plan without REST: 401 ACCESS_DENIED, worded per credential; scope and code come first for webhooks, expiry after for OAuth', async () => {
		emu.world.portal.restAvailable = false;
		const webhook = await call(SEND, VALID);
		expect(webhook.status).toBe(401);
		expect(webhook.body).toEqual({
			error: 'ACCESS_DENIED',
			error_description: 'REST is available only by subscription.',
		});
		expect(obj((await call(SEND, VALID, emu.limitedWebhookUrl)).body).error).toBe(
			'insufficient_scope',
		);
		expect(obj((await request(`${emu.baseUrl}/rest/1/wrongcode/user.current`)).body).error).toBe(
			'INVALID_CREDENTIALS',
		);

		const expired = emu.issueOAuthTokens({ expired: true });
		const oauth = await request(`${emu.baseUrl}/rest/user.current`, {
			headers: { authorization: `Bearer ${expired.access_token}` },
		});
		expect(oauth.status).toBe(401);
		expect(oauth.body).toEqual({
			error: 'ACCESS_DENIED',
			error_description: 'REST is available only on commercial plans.',
		});
	});

	it('401 OVERLOAD_LIMIT for a webhook or an application Bitrix24 blocked for overload', async () => {
		const hook = emu.world.webhooks.find((w) => w.code === WEBHOOK_CODE);
		if (hook) hook.overloaded = true;
		const res = await call(SEND, VALID);
		expect(res.status).toBe(401);
		expect(res.body).toEqual({
			error: 'OVERLOAD_LIMIT',
			error_description: 'REST API is blocked due to overload.',
		});
	});

	it("401 authorization_error when the webhook's user was deactivated", async () => {
		const anna = emu.world.users.find((u) => u.id === USERS.ANNA_ADMIN);
		if (anna) anna.active = false;
		const res = await call(SEND, VALID);
		expect(res.status).toBe(401);
		expect(res.body).toEqual({
			error: 'authorization_error',
			error_description: 'Unable to authorize user',
		});
	});

	it("401 user_access_error when the application is not available to the token's user", async () => {
		const app = emu.world.oauthApps[0];
		if (app) app.availableTo = [USERS.OLEG_OPERATOR];
		const { access_token: token } = emu.issueOAuthTokens();
		const res = await request(`${emu.baseUrl}/rest/user.current`, {
			headers: { authorization: `Bearer ${token}` },
		});
		expect(res.status).toBe(401);
		expect(obj(res.body).error).toBe('user_access_error');
	});

	it('401 insufficient_scope for a call; inside a batch the command fails alone with an empty description and the batch stays 200', async () => {
		const alone = await call(SEND, VALID, emu.limitedWebhookUrl);
		expect(alone.status).toBe(401);
		const inner = await batch(
			{ cmd: { send: command(SEND, VALID), me: 'user.current' } },
			emu.limitedWebhookUrl,
		);
		expect(obj(inner.result_error).send).toEqual({
			error: 'insufficient_scope',
			error_description: '',
		});
		expect(obj(inner.result)).toHaveProperty('me');
	});

	it.each([['user'], ['user_brief'], ['user_basic']])(
		'user.current and user.search are open to the %s scope (RestManager::fillAlternativeScope)',
		async (scope) => {
			emu.world.webhooks.push({ userId: 1, code: 'onlyuserscope0001', scopes: [scope] });
			const url = `${emu.baseUrl}/rest/1/onlyuserscope0001/`;
			expect((await request(`${url}user.current`)).status).toBe(200);
			expect((await call('user.search', { FILTER: { FIND: 'oleg' } }, url)).status).toBe(200);
			expect((await call(SEND, VALID, url)).status).toBe(401);
		},
	);

	it('user.current needs one of them: a webhook with imopenlines alone gets insufficient_scope', async () => {
		emu.world.webhooks.push({ userId: 1, code: 'onlyopenlines0001', scopes: ['imopenlines'] });
		expect(
			obj((await request(`${emu.baseUrl}/rest/1/onlyopenlines0001/user.current`)).body).error,
		).toBe('insufficient_scope');
	});
});

describe('imopenlines.crm.chat.user.add (imopenlines/lib/rest.php::crmChatUserAdd)', () => {
	const addMaria = (override: Record<string, unknown> = {}) =>
		call(ADD_USER, {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: USERS.MARIA_MANAGER,
			CHAT_ID: 1341,
			...override,
		});
	const denied = (reason: string) => ({
		error: 'ACCESS_DENIED',
		error_description: `Access denied! ${reason}`,
	});

	it('adds a user, and adding a member again is no error: the chat ID comes back', async () => {
		expect(obj((await addMaria()).body).result).toBe(1341);
		expect(obj((await addMaria()).body).result).toBe(1341);
		expect(
			emu.world.chats.find((c) => c.id === 1341)?.members.filter((m) => m === USERS.MARIA_MANAGER),
		).toHaveLength(1);
	});

	it.each([
		[
			'the messenger module is missing',
			() => (emu.world.portal.imInstalled = false),
			{},
			400,
			{ error: 'IM_NOT_INSTALLED', error_description: 'Messenger is not installed.' },
		],
		[
			'the caller cannot read the entity',
			() => undefined,
			{ CRM_ENTITY: LEADS.RESTRICTED, CHAT_ID: CHATS.RESTRICTED_LEAD_CHAT },
			403,
			denied("You don't have access to join user to chat"),
		],
		[
			"the chat is another entity's",
			() => undefined,
			{ CHAT_ID: CHATS.DEAL_TELEGRAM_ACTIVE },
			400,
			{
				error: 'CHAT_NOT_IN_CRM',
				error_description: 'Chat does not belong to the CRM entity being checked',
			},
		],
		[
			'the caller may not add users to the line',
			() => emu.world.lineRights.cannotJoin.push(USERS.ANNA_ADMIN),
			{},
			403,
			denied("You don't have access to join user to chat"),
		],
		[
			'USER_ID is missing',
			() => undefined,
			{ USER_ID: undefined },
			400,
			{
				error: 'ERROR_ARGUMENT',
				error_description: "Argument 'Empty USER_ID' is null or empty",
				argument: 'Empty USER_ID',
			},
		],
		[
			'the user is deactivated',
			() => undefined,
			{ USER_ID: USERS.IVAN_FORMER },
			400,
			{ error: 'CRM_CHAT_USER_NOT_ACTIVE', error_description: 'User not active' },
		],
		[
			'the user does not exist',
			() => undefined,
			{ USER_ID: 999 },
			400,
			{ error: 'CRM_CHAT_USER_NOT_ACTIVE', error_description: 'User not active' },
		],
		[
			'the user cannot read the entity',
			() => undefined,
			{ CRM_ENTITY_TYPE: 'deal', CRM_ENTITY: 501, CHAT_ID: 1500 },
			403,
			denied(
				'This user does not have access to the chat because he does not have access to this CRM entity',
			),
		],
		[
			"the user may not view the line's history",
			() => emu.world.lineRights.cannotViewHistory.push(USERS.MARIA_MANAGER),
			{},
			403,
			denied(
				'This user does not have access to the chat because he does not have access to this view chat history',
			),
		],
		[
			'the messenger refuses the user',
			() => (emu.world.chats.find((c) => c.id === 1341)!.refusesNewMembers = true),
			{},
			400,
			{
				error: 'WRONG_REQUEST',
				error_description: "You don't have access or user already member in chat",
			},
		],
	])('refuses when %s', async (_name, arrange, override, status, body) => {
		arrange();
		const res = await addMaria(override);
		expect(res.status).toBe(status);
		expect(res.body).toEqual(body);
		expect(emu.world.chats.find((c) => c.id === 1341)?.members).not.toContain(USERS.MARIA_MANAGER);
	});
});

describe('the messenger (im_messenger.php::CIMMessenger::Add, through rest.php::processException)', () => {
	it('a message another module vetoes: 400 ERROR_FROM_OTHER_MODULE with its reason, nothing posted', async () => {
		emu.world.chats.find((c) => c.id === 1341)!.messengerErrors = [
			{ code: 'ERROR_FROM_OTHER_MODULE', message: 'Messages to this client are paused' },
		];
		const res = await call(SEND, VALID);
		expect(res.status).toBe(400);
		expect(res.body).toEqual({
			error: 'ERROR_FROM_OTHER_MODULE',
			error_description: 'Messages to this client are paused',
		});
		expect(posted()).toEqual([]);
	});

	it('several errors at once: 400 ERROR_CORE, their texts joined', async () => {
		emu.world.chats.find((c) => c.id === 1341)!.messengerErrors = [
			{ code: 'A', message: 'First' },
			{ code: 'B', message: 'Second' },
		];
		expect((await call(SEND, VALID)).body).toEqual({
			error: 'ERROR_CORE',
			error_description: 'First<br>Second<br>',
		});
	});

	it('a deactivated user keeps his CRM rights (they come from roles): outside the chat he is refused as anyone is, CANCELED', async () => {
		expect((await call(SEND, { ...VALID, USER_ID: USERS.IVAN_FORMER })).body).toEqual({
			error: 'CANCELED',
			error_description: 'You cannot send messages to the specified chat',
		});
	});

	it('a whitespace-only message passes (empty() does not trim) and is posted', async () => {
		expect((await call(SEND, { ...VALID, MESSAGE: '   ' })).status).toBe(200);
		expect(posted()).toEqual(['   ']);
	});
});

describe('the error leak in a batch (rest.php::processException reads $APPLICATION->GetException(), never reset)', () => {
	it('after a CANCELED command, every later failure reports CANCELED and its text; earlier failures and successes keep theirs', async () => {
		const inner = await batch({
			cmd: {
				before: command(SEND, { ...VALID, CHAT_ID: CHATS.LEAD2_LIVECHAT_ACTIVE }),
				notMember: command(SEND, { ...VALID, USER_ID: USERS.MARIA_MANAGER }),
				good: command(SEND, VALID),
				otherEntity: command(SEND, { ...VALID, CHAT_ID: CHATS.LEAD2_LIVECHAT_ACTIVE }),
				noMessage: command(SEND, { ...VALID, MESSAGE: '' }),
			},
		});
		const canceled = 'You cannot send messages to the specified chat';
		expect(inner.result).toEqual({ good: FIRST_MESSAGE_ID });
		expect(inner.result_error).toEqual({
			before: {
				error: 'CHAT_NOT_IN_CRM',
				error_description: 'Chat does not belong to the CRM entity being checked',
			},
			notMember: { error: 'CANCELED', error_description: canceled },
			otherEntity: { error: 'CANCELED', error_description: canceled },
			noMessage: { error: 'CANCELED', error_description: canceled, argument: 'MESSAGE' },
		});
	});

	it('an auth failure after it keeps its code but takes the text', async () => {
		emu.world.webhooks.push({ userId: 1, code: 'openlinesonly0001', scopes: ['imopenlines'] });
		const inner = await batch(
			{
				cmd: {
					notMember: command(SEND, { ...VALID, USER_ID: USERS.MARIA_MANAGER }),
					me: 'user.current',
				},
			},
			`${emu.baseUrl}/rest/1/openlinesonly0001/`,
		);
		expect(obj(inner.result_error).me).toEqual({
			error: 'insufficient_scope',
			error_description: 'You cannot send messages to the specified chat',
		});
	});

	it('separate calls do not leak into each other', async () => {
		expect(obj((await call(SEND, { ...VALID, USER_ID: USERS.MARIA_MANAGER })).body).error).toBe(
			'CANCELED',
		);
		expect(
			obj((await call(SEND, { ...VALID, CHAT_ID: CHATS.LEAD2_LIVECHAT_ACTIVE })).body).error,
		).toBe('CHAT_NOT_IN_CRM');
	});
});

describe('CRM entity types and IDs (never validated as such: crm/common.php resolves them or finds nothing)', () => {
	it.each([
		[
			'a type chats are never linked to (quote)',
			{ CRM_ENTITY_TYPE: 'quote', CRM_ENTITY: QUOTES.SPRING_OFFER },
			[],
			400,
			'CHAT_NOT_IN_CRM',
		],
		[
			'"NONE", which skips the access check',
			{ CRM_ENTITY_TYPE: 'NONE', CRM_ENTITY: 1195 },
			[],
			400,
			'CHAT_NOT_IN_CRM',
		],
		[
			'a type the CRM does not know',
			{ CRM_ENTITY_TYPE: 'invoices', CRM_ENTITY: 1195 },
			'ACCESS_DENIED',
			403,
			'ACCESS_DENIED',
		],
		[
			'a known type with a space around it',
			{ CRM_ENTITY_TYPE: ' lead', CRM_ENTITY: 1195 },
			'ACCESS_DENIED',
			403,
			'ACCESS_DENIED',
		],
	])(
		'%s: chat.get and message.add answer as the lookups fall out',
		async (_name, entity, listed, sendStatus, sendError) => {
			const chats = await call('imopenlines.crm.chat.get', entity);
			if (Array.isArray(listed)) expect(obj(chats.body).result).toEqual(listed);
			else expect(obj(chats.body).error).toBe(listed);
			const sent = await call(SEND, { ...VALID, ...entity });
			expect(sent.status).toBe(sendStatus);
			expect(obj(sent.body).error).toBe(sendError);
		},
	);

	it.each([
		['"1341.0"', '1341.0', 200],
		['" 1341"', ' 1341', 200],
		['"1.341e3"', '1.341e3', 200],
		['1341.9', 1341.9, 200],
		['"0x53D"', '0x53D', 400],
	])('reads CHAT_ID %s as PHP does (is_numeric, then (int))', async (_name, chatId, status) => {
		expect((await call(SEND, { ...VALID, CHAT_ID: chatId })).status).toBe(status);
	});
});

describe("the entity's chats (crm/common.php::getChatsByCrmEntity, getLastChatIdByCrmEntity)", () => {
	const chatsOf1195 = async (activeOnly?: string) =>
		arr(
			obj(
				(
					await call('imopenlines.crm.chat.get', {
						CRM_ENTITY_TYPE: 'lead',
						CRM_ENTITY: 1195,
						ACTIVE_ONLY: activeOnly,
					})
				).body,
			).result,
		).map((c) => obj(c).CHAT_ID);

	it('lists the dialogs in progress by their last activity, newest first, whatever their IDs', async () => {
		const seeded = emu.world.chats.find((c) => c.id === 1341)!;
		// A newer chat (a higher ID) whose dialog has been quiet for longer.
		emu.world.chats.push({
			...seeded,
			id: 1390,
			members: [...seeded.members],
			lastActivityAt: seeded.lastActivityAt - 3_600_000,
		});
		expect(await chatsOf1195()).toEqual(['1341', '1390']);
		emu.world.chats.find((c) => c.id === 1390)!.lastActivityAt = seeded.lastActivityAt + 60_000;
		expect(await chatsOf1195()).toEqual(['1390', '1341']);
	});

	it('leaves out chats of connectors the portal switched off, and refuses messages to them', async () => {
		emu.world.portal.disabledConnectors.push('telegrambot');
		expect(await chatsOf1195()).toEqual([]);
		expect(await chatsOf1195('N')).toEqual(['1343', '1342']);
		expect(obj((await call(SEND, VALID)).body).error).toBe('CHAT_NOT_IN_CRM');
	});

	it('getLastId follows the latest activity, not the highest ID, with no access check', async () => {
		emu.world.chats.find((c) => c.id === 1341)!.lastActivityAt += 3_600_000;
		const last = await call('imopenlines.crm.chat.getLastId', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
		});
		expect(obj(last.body).result).toBe(1341);
		const restricted = await call('imopenlines.crm.chat.getLastId', {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: LEADS.RESTRICTED,
		});
		expect(obj(restricted.body).result).toBe(CHATS.RESTRICTED_LEAD_CHAT);
	});
});

describe('halt (rest_provider.php::methodsBatch: isset($arQuery["HALT"]) && $arQuery["HALT"], keys upper-cased)', () => {
	const cmd = {
		refused: command(SEND, { ...VALID, CHAT_ID: CHATS.LEAD2_LIVECHAT_ACTIVE }),
		after: command(SEND, VALID),
	};

	it.each([
		['halt', 'false'],
		['halt', 'no'],
		['halt', '00'],
		['HALT', 1],
		['Halt', true],
		['halt', ' 0'],
	])('%s: %p stops at the first failure', async (key, value) => {
		const inner = await batch({ [key]: value, cmd });
		expect(inner.result).toEqual([]);
		expect(posted()).toEqual([]);
	});

	it.each([[0], ['0'], [''], [false], [null]])('halt: %p runs every command', async (value) => {
		const inner = await batch({ halt: value, cmd });
		expect(obj(inner.result)).toEqual({ after: FIRST_MESSAGE_ID });
	});

	it('skips a command that is not text, yet counts it', async () => {
		const inner = await batch({ cmd: { number: 5, me: 'user.current' } });
		expect(Object.keys(obj(inner.result))).toEqual(['me']);
		expect(inner.result_error).toEqual([]);
	});
});

describe('the time block (rest.php::appendDebugInfo)', () => {
	it('carries operating and operating_reset_at on successes while the load limiter is active; errors have no time', async () => {
		const ok = obj(obj((await call(SEND, VALID)).body).time);
		expect(ok).toEqual(
			expect.objectContaining({ operating: 0, operating_reset_at: expect.any(Number) }),
		);
		const inner = await batch({
			cmd: { good: command(SEND, VALID), bad: command(SEND, { ...VALID, USER_ID: 31 }) },
		});
		expect(Object.keys(obj(inner.result_time))).toEqual(['good']);
		expect(obj((await call(SEND, { ...VALID, USER_ID: 31 })).body)).not.toHaveProperty('time');
	});

	it('has neither on a portal without the load limiter', async () => {
		const portal = await startEmulator({ loadLimiter: false });
		try {
			const time = obj(obj((await postJson(`${portal.webhookUrl}${SEND}`, VALID)).body).time);
			expect(time).toHaveProperty('duration');
			expect(time).not.toHaveProperty('operating');
			expect(time).not.toHaveProperty('operating_reset_at');
		} finally {
			await portal.close();
		}
	});
});

describe('the request body (rest_util.php::CRestUtil::getRequestData, httprequest.php::isJson)', () => {
	const json = JSON.stringify(VALID);
	const form = new URLSearchParams({
		...VALID,
		CRM_ENTITY: '1195',
		USER_ID: '27',
		CHAT_ID: '1341',
	}).toString();

	it.each([
		['application/json', json, 200],
		['Application/JSON; charset=utf-8', json, 200],
		['application/vnd.api+json', json, 200],
		['text/plain (parsed as a form)', form, 200],
		['application/x-www-form-urlencoded', form, 200],
		['application/jsonx (not JSON)', json, 400],
		['text/json (not JSON)', json, 400],
	])('a POST labelled %s', async (label, body, status) => {
		const res = await request(`${emu.webhookUrl}${SEND}`, {
			body: { raw: body, contentType: label.split(' (')[0] },
		});
		expect(res.status).toBe(status);
	});

	it("reads no body but a POST's", async () => {
		const res = await request(`${emu.webhookUrl}${SEND}`, { method: 'PUT', body: { json: VALID } });
		expect(res.body).toMatchObject({ error: 'ERROR_ARGUMENT', argument: 'CRM_ENTITY_TYPE' });
	});

	it('bots are members like users: the support bot posts to its chat', async () => {
		expect((await call(SEND, { ...VALID, USER_ID: BOTS.SUPPORT_BOT })).status).toBe(200);
	});
});
