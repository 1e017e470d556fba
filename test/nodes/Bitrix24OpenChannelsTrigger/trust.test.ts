/**
 * Trust nothing that arrives: the trigger's webhook as an attacker and a careless admin would try it, through
 * n8n-core's contexts (tools/harness/trigger.ts) against the emulator's bots.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import {
	CHATS,
	MEMBER_ID,
	OPEN_LINES,
	SEEDED_BOT_IDS,
	WEBHOOK_CODE,
	type RegisteredBot,
} from '../../../tools/emulator';
import { postJson, request } from '../../../tools/emulator/testClient';
import { TRIGGER_NAME, TriggerHarness, type TriggerOptions } from '../../../tools/harness/trigger';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();
const harnesses: TriggerHarness[] = [];
afterEach(async () => {
	await Promise.all(harnesses.splice(0).map(async (h) => await h.close()));
	delete (Object.prototype as IDataObject).pwned;
});

const ATTACH_SUPPORT: INodeParameters = {
	attachTo: {
		channels: [{ line: { __rl: true, mode: 'list', value: String(OPEN_LINES.SUPPORT) } }],
	},
};

async function trigger(parameters: INodeParameters = {}, options: Partial<TriggerOptions> = {}) {
	const harness = await TriggerHarness.start({
		parameters: { ...ATTACH_SUPPORT, ...parameters },
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emu.webhookUrl } },
		...options,
	});
	harnesses.push(harness);
	return harness;
}

const bots = (): RegisteredBot[] =>
	emu.world.imbot.registered.filter((b) => !SEEDED_BOT_IDS.includes(b.id));
const theBot = (): RegisteredBot => {
	const [bot] = bots();
	if (bot === undefined) throw new Error('No bot registered');
	return bot;
};
const texts = (harness: TriggerHarness) => harness.executions.map((e) => e[0]?.json.text);

async function customerWrites(chatId: number, text: string, attach?: IDataObject) {
	const { messageId } = emu.bots.customerWrites(chatId, text, attach as never);
	await emu.bots.settled();
	return messageId;
}

/** An operator writes into the chat: the bot hears it, the trigger skips it (Customer Messages Only). */
async function operatorWrites(chatId: number, text: string) {
	await postJson(`${emu.webhookUrl}imopenlines.crm.message.add`, {
		CRM_ENTITY_TYPE: 'lead',
		CRM_ENTITY: 1195,
		USER_ID: 27,
		CHAT_ID: chatId,
		MESSAGE: text,
	});
	await emu.bots.settled();
}

/** A form post to the bot's URL (its secret included). */
const postForm = async (body: string, url = theBot().webhookUrl) =>
	await request(url, { body: { form: body } });

/** A delivery as Bitrix24 builds it, for a message in chat 1341, with the given auth block. */
function deliveryOf(messageId: number, text: string, auth: Record<string, string>): string {
	const form = new URLSearchParams({
		event: 'ONIMBOTV2MESSAGEADD',
		'data[bot][id]': String(theBot().id),
		'data[message][id]': String(messageId),
		'data[message][text]': text,
		'data[chat][id]': '1341',
		'data[chat][entityType]': 'LINES',
		'data[chat][entityData1]': `Y|LEAD|1195|N|N|${emu.world.imbot.dialogs.find((d) => d.chatId === 1341)?.sessionId}|0|0|0|0`,
		'data[user][id]': '600',
		'data[user][connector]': '1',
	});
	for (const [key, value] of Object.entries(auth)) form.append(`auth[${key}]`, value);
	return form.toString();
}

const portalAuth = () => ({ domain: new URL(emu.baseUrl).host, member_id: MEMBER_ID });

describe('The webhook body', () => {
	it('with prototype keys is refused (400) before it reaches any object; the process stays clean and hears the next message', async () => {
		const harness = await trigger();
		await harness.activate();
		for (const body of [
			'__proto__[pwned]=yes&event=X',
			'__proto__%5BtoString%5D=1&event=X',
			'constructor[prototype][pwned]=yes',
			'data[message][__proto__][pwned]=yes&event=ONIMBOTV2MESSAGEADD',
		])
			expect((await postForm(body)).status).toBe(400);
		expect(({} as IDataObject).pwned).toBeUndefined();
		expect(String({})).toBe('[object Object]');
		// Without the URL secret the body is not even parsed: 403.
		expect(
			(
				await request(harness.productionUrl, {
					body: { form: '__proto__[pwned]=yes' },
				})
			).status,
		).toBe(403);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'still here');
		expect(texts(harness)).toEqual(['still here']);
	});

	it('keeps every field of an event with more than 1,000 (a 340-row grid before auth)', async () => {
		const harness = await trigger();
		await harness.activate();
		const rows = Array.from({ length: 340 }, (_, row) => ({
			NAME: `Item ${row}`,
			VALUE: `${row} pcs`,
			DISPLAY: 'LINE',
		}));
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'my order', { BLOCKS: [{ GRID: rows }] });
		expect(emu.world.imbot.deliveries.at(-1)?.body.split('&').length).toBeGreaterThan(1000);
		expect(texts(harness)).toEqual(['my order']);
		const raw = JSON.stringify(harness.executions[0]?.[0]?.json.raw);
		expect(raw.match(/Item \d+/g)).toHaveLength(340);
	});

	it('over 1 MiB is refused with 413 and starts nothing', async () => {
		const harness = await trigger();
		await harness.activate();
		expect((await postForm(`event=X&pad=${'a'.repeat(1024 * 1024)}`)).status).toBe(413);
		expect(harness.executions).toEqual([]);
	});
});

describe('Forged and replayed deliveries', () => {
	it('static data keeps no secret: a post built from it, or without the portal, starts nothing', async () => {
		const harness = await trigger();
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'genuine');
		// n8n 2.x saves no static data of a request that started an execution: the next one that starts none does.
		await operatorWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'an operator answers');
		const bot = theBot();
		const urlSecret = new URL(bot.webhookUrl).searchParams.get('token') ?? '';
		const saved = JSON.stringify(harness.staticData);
		for (const secret of [urlSecret, bot.applicationToken, bot.botToken ?? '', WEBHOOK_CODE])
			expect(saved).not.toContain(secret);
		expect(harness.staticData[`node:${TRIGGER_NAME}`]).toEqual({
			botId: bot.id,
			webhookUrlHash: expect.stringMatching(/^[0-9a-f]{64}$/),
			webhookBaseHash: expect.stringMatching(/^[0-9a-f]{64}$/),
			applicationTokenHash: expect.stringMatching(/^[0-9a-f]{64}$/),
			memberId: MEMBER_ID,
			recentEvents: [
				expect.stringMatching(/^dialogStarted:1341:\d+$/),
				expect.stringMatching(/^message:\d+$/),
				expect.stringMatching(/^message:\d+$/),
			],
			// The open channel's own welcome-bot setting, given back at deactivation.
			linesBefore: {
				'1': {
					WELCOME_BOT_ENABLE: 'N',
					WELCOME_BOT_ID: '0',
					WELCOME_BOT_JOIN: 'always',
					WELCOME_BOT_LEFT: 'queue',
				},
			},
		});
		// What static data holds, without the URL secret: 403.
		const fromStaticData = deliveryOf(99_001, 'forged', { application_token: 'x' });
		expect((await postForm(fromStaticData, harness.productionUrl)).status).toBe(403);
		// The right token, but no portal, another portal, another member_id: 403.
		const token = bot.applicationToken;
		for (const auth of [
			{ application_token: token },
			{ ...portalAuth(), domain: 'evil.bitrix24.com', application_token: token },
			{ ...portalAuth(), member_id: 'f'.repeat(32), application_token: token },
		])
			expect((await postForm(deliveryOf(99_002, 'forged', auth))).status).toBe(403);
		expect(texts(harness)).toEqual(['genuine']);
	});

	it('one forged post right after activation pins nothing: the portal does not know its message, genuine events run', async () => {
		const harness = await trigger();
		await harness.activate();
		const forged = deliveryOf(99_003, 'Send the refund to my card', {
			...portalAuth(),
			application_token: 'attacker',
		});
		expect((await postForm(forged)).status).toBe(403);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'genuine after the forgery');
		expect(texts(harness)).toEqual(['genuine after the forgery']);
		// Once pinned, the attacker's token is refused even with a real message's ID and text.
		const [real] =
			emu.world.imbot.dialogs
				.find((d) => d.chatId === CHATS.LEAD_TELEGRAM_ACTIVE)
				?.messages.slice(-1) ?? [];
		const copy = deliveryOf(real?.id ?? 0, real?.text ?? '', {
			...portalAuth(),
			application_token: 'attacker',
		});
		expect((await postForm(copy)).status).toBe(403);
		expect(harness.executions).toHaveLength(1);
	});

	it('a replayed delivery, or Bitrix24 delivering twice, starts one execution, also after a restart', async () => {
		const harness = await trigger();
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'once');
		const delivery = emu.world.imbot.deliveries.at(-1);
		expect((await postForm(delivery?.body ?? '')).status).toBe(200);
		const restarted = await harness.restart();
		harnesses.push(restarted);
		await restarted.activate('init');
		expect((await postForm(delivery?.body ?? '')).status).toBe(200);
		expect(texts(harness)).toEqual(['once']);
		expect(restarted.executions).toEqual([]);
	});

	it('a new n8n process remembers from static data alone: no replay runs, the token needs no new confirmation', async () => {
		const harness = await trigger();
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'before the restart');
		const delivery = emu.world.imbot.deliveries.at(-1);
		await operatorWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'an operator answers');
		await harness.close();
		// A fresh module registry: the node's code as a new process loads it, with nothing in its memory.
		let FreshHarness: typeof TriggerHarness = TriggerHarness;
		jest.isolateModules(() => {
			({ TriggerHarness: FreshHarness } = jest.requireActual<{
				TriggerHarness: typeof TriggerHarness;
			}>('../../../tools/harness/trigger'));
		});
		expect(FreshHarness).not.toBe(TriggerHarness);
		const fresh = await FreshHarness.start({
			parameters: ATTACH_SUPPORT,
			credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emu.webhookUrl } },
			staticData: harness.staticData,
			port: Number(new URL(harness.productionUrl).port),
		});
		harnesses.push(fresh);
		await fresh.activate('init');
		const histories = () =>
			emu.requests.filter((r) => r.restMethod === 'imopenlines.session.history.get').length;
		const confirmations = histories();
		expect((await postForm(delivery?.body ?? '')).status).toBe(200);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'after the restart');
		expect(texts(fresh)).toEqual(['after the restart']);
		expect(histories()).toBe(confirmations);
	});

	it('when Bitrix24 changes the application token, the next genuine message is confirmed and runs', async () => {
		const harness = await trigger();
		await harness.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'old token');
		theBot().applicationToken = 'b'.repeat(32);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'new token');
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'new token again');
		expect(texts(harness)).toEqual(['old token', 'new token', 'new token again']);
	});

	it('static data of an earlier version (URL and token in clear) is migrated: hashes only, the token confirmed again', async () => {
		const harness = await trigger();
		await harness.activate();
		const bot = theBot();
		const legacy = {
			[`node:${TRIGGER_NAME}`]: {
				botId: bot.id,
				webhookUrl: bot.webhookUrl,
				applicationToken: 'pinned-by-a-forger',
			},
		};
		await harness.close();
		const upgraded = await TriggerHarness.start({
			parameters: ATTACH_SUPPORT,
			credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emu.webhookUrl } },
			credentials: harness.credentials,
			staticData: legacy,
			port: Number(new URL(harness.productionUrl).port),
		});
		harnesses.push(upgraded);
		const registers = emu.requests.filter((r) => r.restMethod === 'imbot.v2.bot.register').length;
		await upgraded.activate('init');
		expect(emu.requests.filter((r) => r.restMethod === 'imbot.v2.bot.register')).toHaveLength(
			registers,
		);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'after the upgrade');
		expect(texts(upgraded)).toEqual(['after the upgrade']);
		const saved = JSON.stringify(upgraded.staticData);
		expect(saved).not.toContain('pinned-by-a-forger');
		expect(saved).not.toContain(new URL(bot.webhookUrl).searchParams.get('token') ?? '');
	});
});

describe('A credential changed while the workflow is active', () => {
	const ROTATED = 'r0t4t3dc0de9x7q2';
	const rotateWebhookCode = (harness: TriggerHarness, botToken?: string) => {
		const hook = emu.world.webhooks.find((w) => w.code === WEBHOOK_CODE);
		if (hook) hook.code = ROTATED;
		harness.credentials.stored.set(harness.credentials.credentialId, {
			webhookUrl: emu.webhookUrl.replace(WEBHOOK_CODE, ROTATED),
			...(botToken ? { botToken } : {}),
		});
	};

	it('with a Bot Token: events at the old URL still run, and the next start points the bot at the new one', async () => {
		const botToken = 'n8n-shop-bot-token-0123456789';
		const credential: TriggerOptions['credential'] = {
			type: 'bitrix24WebhookApi',
			data: { webhookUrl: emu.webhookUrl, botToken },
		};
		const harness = await trigger({}, { credential });
		await harness.activate();
		const oldUrl = theBot().webhookUrl;
		rotateWebhookCode(harness, botToken);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'to the old URL');
		expect(texts(harness)).toEqual(['to the old URL']);
		const restarted = await harness.restart();
		harnesses.push(restarted);
		await restarted.activate('init');
		expect(theBot().webhookUrl).not.toBe(oldUrl);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'to the new URL');
		expect(texts(restarted)).toEqual(['to the new URL']);
		expect(bots()).toHaveLength(1);
		// Deactivated and activated again by hand: its own bot, whatever the URL's secret.
		await restarted.deactivate();
		await restarted.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'after a re-activation');
		expect(texts(restarted)).toEqual(['to the new URL', 'after a re-activation']);
	});

	it('without a Bot Token: activation fails loudly, saying why and what to do, with no secret in it', async () => {
		const harness = await trigger();
		await harness.activate();
		const urlSecret = new URL(theBot().webhookUrl).searchParams.get('token') ?? '';
		rotateWebhookCode(harness);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'before the restart');
		expect(texts(harness)).toEqual(['before the restart']);
		const restarted = await harness.restart();
		harnesses.push(restarted);
		const error = (await restarted.activate('init').catch((e: unknown) => e)) as Error & {
			description?: string;
		};
		expect(error.message).toContain('BOT_CODE_ALREADY_TAKEN');
		expect(error.message).toContain('already has a bot with this Bot Code');
		expect(error.description).toContain('webhook code was regenerated');
		const text = JSON.stringify({ message: error.message, description: error.description });
		for (const secret of [WEBHOOK_CODE, ROTATED, urlSecret]) expect(text).not.toContain(secret);
	});
});

describe('Errors', () => {
	it("an answer that echoes the trigger's URL has its secret masked in the activation error", async () => {
		const harness = await trigger();
		await harness.activate();
		const url = theBot().webhookUrl;
		const urlSecret = new URL(url).searchParams.get('token') ?? '';
		await harness.deactivate();
		emu.injectFaults(
			[
				{
					kind: 'status',
					status: 400,
					error: 'BOT_INVALID_CALLBACK',
					errorDescription: `Invalid webhook URL ${url}`,
				},
			],
			{ method: 'imbot.v2.Bot.update' },
		);
		const error = (await harness.activate().catch((e: unknown) => e)) as Error & {
			description?: string;
		};
		expect(error.message).toContain("Bitrix24 refused n8n's webhook URL for the bot");
		expect(error.description).toContain('public https');
		const text = JSON.stringify({ message: error.message, description: error.description });
		expect(text).toContain('Invalid webhook URL');
		expect(text).not.toContain(urlSecret);
		expect(text).not.toContain(WEBHOOK_CODE);
	});
});

describe('Copies of a workflow', () => {
	it("a copy that inherited the original's static data is refused too; the original keeps hearing", async () => {
		const original = await trigger();
		await original.activate();
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'to the original');
		const copy = await trigger({}, { staticData: original.staticData });
		await expect(copy.activate()).rejects.toThrow(
			'already delivers its events to another workflow',
		);
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'still the original');
		expect(texts(original)).toEqual(['to the original', 'still the original']);
		expect(copy.executions).toEqual([]);
		// Deactivating the refused copy leaves the original's bot alone.
		await copy.deactivate();
		expect(theBot().eventMode).toBe('webhook');
	});
});

describe('Fetch Test Event', () => {
	it('Fetch Test Event only reads: never switches, registers or attaches a bot', async () => {
		const instant = await trigger();
		await instant.activate();
		const polling = await trigger({ mode: 'polling' });
		await expect(polling.poll('manual')).rejects.toThrow(
			'delivers its events to an active workflow in instant mode',
		);
		expect(theBot().eventMode).toBe('webhook');
		await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'instant still hears');
		expect(texts(instant)).toEqual(['instant still hears']);

		const lines = emu.requests.filter((r) => r.restMethod === 'imopenlines.config.update').length;
		const fresh = await trigger({ mode: 'polling', botCode: 'never_activated' });
		await expect(fresh.poll('manual')).rejects.toThrow('Bitrix24 has no bot "never_activated" yet');
		expect(bots().map((b) => b.code)).toEqual(['n8n_open_channels']);
		expect(emu.requests.filter((r) => r.restMethod === 'imopenlines.config.update')).toHaveLength(
			lines,
		);
	});
});
