/**
 * The trigger through n8n-core's HookContext, WebhookContext and PollContext (tools/harness/trigger.ts) against the
 * emulator's bots: the emulator POSTs real events to the harness's webhook endpoint.
 */
import {
	CHATS,
	MEMBER_ID,
	OPEN_LINES,
	WEBHOOK_CODE,
	type Emulator,
	type RegisteredBot,
	SEEDED_BOT_IDS,
} from '../../../tools/emulator';
import { postJson, request } from '../../../tools/emulator/testClient';
import { oauthCredential } from '../../../tools/harness/oauthCredential';
import { TRIGGER_NAME, TriggerHarness, type TriggerOptions } from '../../../tools/harness/trigger';
import { useEmulator } from '../../../tools/harness/useEmulator';
import type { IDataObject, INodeParameters } from 'n8n-workflow';

const emu = useEmulator();
const harnesses: TriggerHarness[] = [];
afterEach(async () => {
	await Promise.all(harnesses.splice(0).map(async (h) => await h.close()));
});

const ATTACH_SUPPORT: INodeParameters = {
	attachTo: {
		channels: [{ line: { __rl: true, mode: 'list', value: String(OPEN_LINES.SUPPORT) } }],
	},
};
const viaWebhook = (emulator: Emulator): TriggerOptions['credential'] => ({
	type: 'bitrix24WebhookApi',
	data: { webhookUrl: emulator.webhookUrl },
});

async function trigger(parameters: INodeParameters, options: Partial<TriggerOptions> = {}) {
	const harness = await TriggerHarness.start({
		parameters: { ...ATTACH_SUPPORT, ...parameters },
		credential: viaWebhook(emu),
		...options,
	});
	harnesses.push(harness);
	return harness;
}

/** The bots registered so far (the portal's seeded bots aside). */
const bots = (): RegisteredBot[] =>
	emu.world.imbot.registered.filter((b) => !SEEDED_BOT_IDS.includes(b.id));
const calledTimes = (method: string) => emu.requests.filter((r) => r.restMethod === method).length;

/** A customer writes and every delivery is answered. */
async function customerWrites(chatId: number, text: string): Promise<number> {
	const { messageId } = emu.bots.customerWrites(chatId, text);
	await emu.bots.settled();
	return messageId;
}

describe('The Bot Token of the webhook credential', () => {
	it('is the token the trigger registers its bot with, so Bot Dialog calls act as that bot', async () => {
		const botToken = 'n8n-shop-bot-token-0123456789';
		const harness = await trigger(
			{},
			{
				credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emu.webhookUrl, botToken } },
			},
		);
		await harness.activate();

		expect(bots()).toHaveLength(1);
		expect(bots()[0]).toMatchObject({ botToken, owner: `token:${botToken}` });
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Hello');
		expect(harness.executions).toHaveLength(1);
		expect(JSON.stringify(harness.executions)).not.toContain(botToken);
	});
});

describe('Instant mode', () => {
	it('registers one bot pointed at n8n, attaches it to the open channel, and emits one item per customer message', async () => {
		const harness = await trigger({});
		await harness.activate();
		expect(bots()).toHaveLength(1);
		const [bot] = bots();
		expect(bot).toMatchObject({
			eventMode: 'webhook',
			type: 'openline',
			code: 'n8n_open_channels',
		});
		expect(bot?.webhookUrl.startsWith(`${harness.productionUrl}?token=`)).toBe(true);
		expect(emu.world.imbot.lines[0]).toMatchObject({
			welcomeBotEnable: true,
			welcomeBotId: bot?.id,
		});

		const messageId = await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Where is my order #1045?');
		// JOINCHAT is answered without an execution (not among the Events); the message starts one.
		expect(harness.calls.map((c) => c.answer.status)).toEqual([200, 200]);
		expect(harness.executions).toHaveLength(1);
		const dialog = emu.world.imbot.dialogs.find((d) => d.chatId === CHATS.LEAD_TELEGRAM_ACTIVE);
		expect(harness.executions[0]?.[0]?.json).toEqual({
			event: 'message',
			chatId: 1341,
			dialogId: 'chat1341',
			messageId,
			text: 'Where is my order #1045?',
			date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
			author: { id: dialog?.customerId, name: 'Guest Telegram', isCustomer: true, isBot: false },
			lineId: 1,
			connector: 'telegrambot',
			connectorChatId: String(dialog?.connectorChatId),
			connectorUserId: String(dialog?.customerId),
			sessionId: dialog?.sessionId,
			crmEntityType: 'lead',
			crmEntityId: 1195,
			crmBindings: { lead: 1195 },
			botId: bot?.id,
			botCode: 'n8n_open_channels',
			eventId: null,
			raw: expect.objectContaining({ type: 'ONIMBOTV2MESSAGEADD' }),
		});
	});

	it('activating twice and restarting n8n never creates a second bot; a restart makes no Bitrix24 change', async () => {
		const harness = await trigger({});
		await harness.activate();
		await harness.activate();
		expect(bots()).toHaveLength(1);
		const registers = calledTimes('imbot.v2.bot.register');
		const restarted = await harness.restart();
		harnesses.push(restarted);
		await restarted.activate('init');
		expect(bots()).toHaveLength(1);
		// checkExists found the bot pointed at this URL: nothing registered or updated.
		expect(calledTimes('imbot.v2.bot.register')).toBe(registers);
		expect(bots()[0]?.webhookUrl.startsWith(restarted.productionUrl)).toBe(true);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'after the restart');
		expect(restarted.executions.map((e) => e[0]?.json.text)).toEqual(['after the restart']);
	});

	it("a webhook whose static data predates activation's save keeps the bot: a restart registers nothing", async () => {
		const harness = await trigger({});
		await harness.activate();
		// n8n saves the whole static data after each webhook: as if the first post had loaded it before activation saved.
		const state = harness.workflow.staticData[`node:${TRIGGER_NAME}`] as IDataObject;
		delete state.botId;
		delete state.webhookUrl;
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'right after activation');
		const registers = calledTimes('imbot.v2.bot.register');
		const restarted = await harness.restart();
		harnesses.push(restarted);
		await restarted.activate('init');
		expect(calledTimes('imbot.v2.bot.register')).toBe(registers);
		expect(bots()).toHaveLength(1);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'after the restart');
		expect(restarted.executions.map((e) => e[0]?.json.text)).toEqual(['after the restart']);
	});

	it('a copy with the same Bot Code is refused while the original is active, and takes the bot once it is not', async () => {
		const original = await trigger({});
		await original.activate();
		const copy = await trigger({});
		await expect(copy.activate()).rejects.toThrow(
			'The bot "n8n_open_channels" already delivers its events to another workflow',
		);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'to the original');
		expect(original.executions).toHaveLength(1);
		await original.deactivate();
		await copy.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'to the copy');
		expect(bots()).toHaveLength(1);
		expect(copy.executions.map((e) => e[0]?.json.text)).toEqual(['to the copy']);
	});

	it("static data lost before n8n's start still finds the bot by its code (no second bot)", async () => {
		const first = await trigger({});
		await first.activate();
		const again = await trigger({});
		await again.activate('init');
		expect(bots()).toHaveLength(1);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'to the newest URL');
		expect(again.executions).toHaveLength(1);
		expect(first.executions).toHaveLength(0);
	});

	it('deactivation switches the bot to fetch and gives the channel its own welcome-bot setting back; activation takes it again', async () => {
		const harness = await trigger({});
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'before');
		expect(await harness.deactivate()).toBe(true);
		const posts = emu.world.imbot.deliveries.length;
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'after');
		expect(emu.world.imbot.deliveries).toHaveLength(posts);
		expect(harness.executions.map((e) => e[0]?.json.text)).toEqual(['before']);
		expect(bots()[0]).toMatchObject({ eventMode: 'fetch' });
		// Nobody runs the bot: the channel is as it was before activation, new dialogs go to its operators at once.
		expect(emu.world.imbot.lines[0]).toMatchObject({ welcomeBotEnable: false, welcomeBotId: 0 });
		// Activated again: the same bot, back on the webhook and the channel's welcome bot.
		await harness.activate();
		expect(emu.world.imbot.lines[0]).toMatchObject({
			welcomeBotEnable: true,
			welcomeBotId: bots()[0]?.id,
		});
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'back');
		expect(bots()).toHaveLength(1);
		expect(harness.executions.map((e) => e[0]?.json.text)).toEqual(['before', 'back']);
	});

	it('forged requests get 403 and start nothing: no URL secret, a wrong application_token, another bot', async () => {
		const harness = await trigger({});
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'real');
		const genuine = emu.world.imbot.deliveries.at(-1);
		const url = bots()[0]?.webhookUrl ?? '';
		const form = (body: string) => request(url, { body: { form: body } });

		expect(
			(await request(harness.productionUrl, { body: { form: genuine?.body ?? '' } })).status,
		).toBe(403);
		expect(
			(
				await request(`${harness.productionUrl}?token=guess`, {
					body: { form: genuine?.body ?? '' },
				})
			).status,
		).toBe(403);
		const token = bots()[0]?.applicationToken ?? '';
		expect((await form((genuine?.body ?? '').split(token).join('0'.repeat(32)))).status).toBe(403);
		const otherBot = (genuine?.body ?? '').replace(
			/data%5Bbot%5D%5Bid%5D=\d+/,
			'data%5Bbot%5D%5Bid%5D=999',
		);
		expect((await form(otherBot)).status).toBe(403);
		expect((await postJson(url, { event: 'ONIMBOTV2MESSAGEADD', data: {} })).status).toBe(403);
		// The genuine body once more (a replay, or Bitrix24 delivering twice) is answered and starts nothing.
		expect((await form(genuine?.body ?? '')).status).toBe(200);
		expect(harness.executions).toHaveLength(1);
	});

	it('accepts a JSON body as well (§7 Q2) and keeps no secret in items', async () => {
		const harness = await trigger({});
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'form');
		const bot = bots()[0];
		const item = harness.executions[0]?.[0]?.json as IDataObject;
		const raw = item.raw as IDataObject;
		const data = raw.data as IDataObject;
		const next = { ...(data.message as IDataObject), id: Number(item.messageId) + 1000 };
		const json = await postJson(bot?.webhookUrl ?? '', {
			event: 'ONIMBOTV2MESSAGEADD',
			data: { ...data, message: next },
			auth: {
				domain: new URL(emu.baseUrl).host,
				member_id: MEMBER_ID,
				application_token: bot?.applicationToken,
			},
		});
		expect(json.status).toBe(200);
		expect(harness.executions[1]?.[0]?.json).toMatchObject({ text: 'form', chatId: 1341 });
		const everything = JSON.stringify(harness.executions);
		for (const secret of [WEBHOOK_CODE, bot?.botToken, bot?.applicationToken])
			expect(everything).not.toContain(secret);
	});

	it("skips operators' messages unless asked; filters by open channel; emits Dialog Started when chosen", async () => {
		const harness = await trigger({
			events: ['message', 'dialogStarted'],
			attachTo: {
				channels: [
					{ line: { __rl: true, mode: 'list', value: '1' } },
					{ line: { __rl: true, mode: 'id', value: '2' } },
				],
			},
			options: { onlyFrom: { channels: [{ line: { __rl: true, mode: 'id', value: '1' } }] } },
		});
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'support line');
		await customerWrites(CHATS.DEAL_TELEGRAM_ACTIVE, 'sales line');
		await postJson(`${emu.webhookUrl}imopenlines.crm.message.add`, {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: 27,
			CHAT_ID: 1341,
			MESSAGE: 'operator answer',
		});
		await emu.bots.settled();
		expect(harness.executions.map((e) => [e[0]?.json.event, e[0]?.json.text])).toEqual([
			['dialogStarted', null],
			['message', 'support line'],
		]);

		await harness.deactivate();
		const everyone = await trigger({ options: { customerMessagesOnly: false } });
		await everyone.activate();
		await postJson(`${emu.webhookUrl}imopenlines.crm.message.add`, {
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: 27,
			CHAT_ID: 1341,
			MESSAGE: 'operator again',
		});
		await emu.bots.settled();
		expect(everyone.executions[0]?.[0]?.json).toMatchObject({
			text: 'operator again',
			author: { id: 27, name: 'Oleg Operator', isCustomer: false, isBot: false },
		});
	});

	it('works over OAuth2: the application owns the bot, no bot token', async () => {
		const harness = await trigger({}, { credential: oauthCredential(emu, emu.issueOAuthTokens()) });
		await harness.activate();
		expect(bots()[0]).toMatchObject({ owner: expect.stringMatching(/^app:/), botToken: undefined });
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'over oauth');
		expect(harness.executions[0]?.[0]?.json.text).toBe('over oauth');
	});

	it('fails activation with the Bitrix24 reason, secrets masked, when the open channel does not exist', async () => {
		const harness = await trigger({
			attachTo: { channels: [{ line: { __rl: true, mode: 'id', value: '77' } }] },
		});
		await expect(harness.activate()).rejects.toThrow('Bitrix24 has no open channel 77');
		const limited = await trigger(
			{},
			{ credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emu.limitedWebhookUrl } } },
		);
		const error = await limited.activate().catch((e: Error) => e);
		expect(String(error)).toContain('insufficient_scope');
		expect(JSON.stringify(error)).not.toContain('crmonly0user0scope');
	});
});

describe('Polling mode', () => {
	it('the first poll registers a fetch bot and skips the backlog; each event is emitted once', async () => {
		const harness = await trigger({ mode: 'polling' });
		await harness.activate();
		expect(bots()).toHaveLength(0);
		expect(await harness.poll()).toBeNull();
		expect(bots()[0]).toMatchObject({ eventMode: 'fetch' });
		// The backlog is skipped before the bot joins any channel: nothing it hears once attached is lost.
		const methods = emu.requests.map((r) => r.restMethod);
		expect(methods.indexOf('imbot.v2.event.get')).toBeLessThan(
			methods.indexOf('imopenlines.config.update'),
		);

		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'one');
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'two');
		// A manual fetch shows what waits without moving the offset.
		const manual = await harness.poll('manual');
		expect(manual?.[0]?.map((i) => i.json.text)).toEqual(['one', 'two']);
		const first = await harness.poll();
		expect(first?.[0]?.map((i) => [i.json.text, typeof i.json.eventId])).toEqual([
			['one', 'number'],
			['two', 'number'],
		]);
		expect(await harness.poll()).toBeNull();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'three');
		expect((await harness.poll())?.[0]?.map((i) => i.json.text)).toEqual(['three']);
		expect(emu.world.imbot.deliveries).toEqual([]);
	});

	it('a new poller of an existing bot skips what queued before it; a restart keeps the offset', async () => {
		const first = await trigger({ mode: 'polling' });
		await first.poll();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'backlog');
		const fresh = await trigger({ mode: 'polling' });
		expect(await fresh.poll()).toBeNull();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'new');
		const restarted = await fresh.restart();
		harnesses.push(restarted);
		expect((await restarted.poll())?.[0]?.map((i) => i.json.text)).toEqual(['new']);
		expect(bots()).toHaveLength(1);
	});

	it('switching an instant bot to polling takes it off the webhook', async () => {
		const instant = await trigger({});
		await instant.activate();
		await instant.deactivate();
		const polling = await trigger({ mode: 'polling' });
		await polling.poll();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'polled');
		expect((await polling.poll())?.[0]?.map((i) => i.json.text)).toEqual(['polled']);
		expect(instant.executions).toHaveLength(0);
	});
});

describe('Open Channel pick-list', () => {
	it('lists the portal open channels by name (imopenlines.config.list.get), searchable', async () => {
		const harness = await trigger({});
		const { results } = await harness.searchOpenChannels();
		expect(results.map((r) => [r.name, r.value])).toEqual([
			['Customer support (line 1)', '1'],
			['Sales (line 2)', '2'],
			['Old website chat (line 3), switched off', '3'],
		]);
		expect((await harness.searchOpenChannels('sal')).results.map((r) => r.value)).toEqual(['2']);
	});
});
