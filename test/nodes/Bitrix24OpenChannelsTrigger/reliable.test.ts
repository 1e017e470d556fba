/**
 * Reliable mode (the default of new workflows) through n8n-core's TriggerContext and TriggersAndPollers, the way
 * n8n's ActiveWorkflows runs a trigger (tools/harness/trigger.ts startLoop), against the emulator's bots in fetch
 * mode. The credential's budget is raised to 20 requests/s so the loop reads every 150 ms in a conversation.
 */
import { sleep, type INodeExecutionData, type INodeParameters } from 'n8n-workflow';

import {
	CHATS,
	OPEN_LINES,
	SEEDED_BOT_IDS,
	WEBHOOK_CODE,
	type RegisteredBot,
} from '../../../tools/emulator';
import { TRIGGER_NAME, TriggerHarness, type TriggerOptions } from '../../../tools/harness/trigger';
import { useEmulator } from '../../../tools/harness/useEmulator';

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

/** A new workflow's trigger: node version 2, every parameter at its default but the open channel. */
async function reliableTrigger(options: Partial<TriggerOptions> = {}): Promise<TriggerHarness> {
	const harness = await TriggerHarness.start({
		parameters: { ...ATTACH_SUPPORT },
		credential: {
			type: 'bitrix24WebhookApi',
			data: { webhookUrl: emu.webhookUrl, requestsPerSecond: 20, burstLimit: 50 },
		},
		typeVersion: 2,
		...options,
	});
	harnesses.push(harness);
	return harness;
}

const bots = (): RegisteredBot[] =>
	emu.world.imbot.registered.filter((b) => !SEEDED_BOT_IDS.includes(b.id));
const reads = () => emu.requests.filter((r) => r.restMethod === 'imbot.v2.event.get').length;
const textsOf = (executions: Array<{ items: INodeExecutionData[] }>) =>
	executions.map((e) => e.items[0]?.json.text);

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await sleep(20);
	}
}

const executionsReach = async (harness: TriggerHarness, count: number) =>
	await until(`${count} executions`, () =>
		harness.loopExecutions.length >= count ? harness.loopExecutions : undefined,
	);

describe('Reliable mode', () => {
	it("is a new workflow's mode: activation sets up a fetch bot on the channel, each customer message starts one execution, no URL needed", async () => {
		const harness = await reliableTrigger();
		await harness.startLoop();
		expect(bots()).toHaveLength(1);
		expect(bots()[0]).toMatchObject({ eventMode: 'fetch', webhookUrl: '' });
		expect(emu.world.imbot.lines.find((l) => l.id === OPEN_LINES.SUPPORT)).toMatchObject({
			welcomeBotEnable: true,
			welcomeBotId: bots()[0]?.id,
		});
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Where is my order?');
		emu.bots.customerWrites(CHATS.CONTACT_WHATSAPP_ACTIVE, 'Hello');
		const executions = await executionsReach(harness, 2);
		expect(textsOf(executions).sort()).toEqual(['Hello', 'Where is my order?']);
		expect(executions.every((e) => e.items.length === 1)).toBe(true);
		expect(executions[0]?.items[0]?.json).toMatchObject({
			event: 'message',
			eventId: expect.any(Number),
		});
		// Nothing was posted anywhere: the bot keeps its events for Event.get.
		expect(emu.world.imbot.deliveries).toEqual([]);
		await sleep(500);
		expect(harness.loopExecutions).toHaveLength(2);
	});

	it("a chat's messages start their executions one after another, in order; other chats do not wait", async () => {
		const running = new Map<string, number>();
		const overlaps: string[] = [];
		const harness = await reliableTrigger({
			runExecution: async (items) => {
				const chat = String(items[0]?.json.chatId);
				if ((running.get(chat) ?? 0) > 0) overlaps.push(chat);
				running.set(chat, (running.get(chat) ?? 0) + 1);
				await sleep(150);
				running.set(chat, (running.get(chat) ?? 0) - 1);
			},
		});
		await harness.startLoop();
		for (const text of ['one', 'two', 'three', 'four']) {
			emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, `A ${text}`);
			emu.bots.customerWrites(CHATS.CONTACT_WHATSAPP_ACTIVE, `B ${text}`);
		}
		const executions = await executionsReach(harness, 8);
		const ofChat = (prefix: string) =>
			textsOf(executions).filter((t) => String(t).startsWith(prefix));
		expect(ofChat('A')).toEqual(['A one', 'A two', 'A three', 'A four']);
		expect(ofChat('B')).toEqual(['B one', 'B two', 'B three', 'B four']);
		expect(overlaps).toEqual([]);
	});

	it('an event Bitrix24 gives twice (at least once) starts one execution', async () => {
		const harness = await reliableTrigger();
		await harness.startLoop();
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'the bot holds this dialog');
		await executionsReach(harness, 1);
		await harness.stopLoop();
		// While nobody reads, Bitrix24 queues the message's event twice (a retry inside the portal).
		const { eventIds } = emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'only once');
		const queued = emu.world.imbot.queue.find((e) => e.eventId === eventIds.at(-1));
		if (queued === undefined) throw new Error('The event was not queued');
		emu.world.imbot.queue.push({ ...queued, eventId: emu.world.imbot.nextEventId++ });
		await harness.startLoop();
		await executionsReach(harness, 2);
		await sleep(500);
		expect(textsOf(harness.loopExecutions)).toEqual(['the bot holds this dialog', 'only once']);
	});

	it('n8n stopped while executions ran: the events it had not acknowledged are read again, and none starts twice', async () => {
		let release: () => void = () => undefined;
		const gate = new Promise<void>((resolve) => (release = resolve));
		const harness = await reliableTrigger({ runExecution: async () => await gate });
		await harness.startLoop();
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'first');
		emu.bots.customerWrites(CHATS.CONTACT_WHATSAPP_ACTIVE, 'second');
		await executionsReach(harness, 2);
		// n8n goes down with both executions running; it saved static data as it started them.
		const saved = harness.loopExecutions.at(-1)?.savedStaticData ?? {};
		release();
		await harness.close();
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'while down');
		const restarted = await TriggerHarness.start({
			parameters: { ...ATTACH_SUPPORT },
			credential: {
				type: 'bitrix24WebhookApi',
				data: { webhookUrl: emu.webhookUrl, requestsPerSecond: 20, burstLimit: 50 },
			},
			typeVersion: 2,
			staticData: saved,
		});
		harnesses.push(restarted);
		// n8n's database still holds the executions created before the stop, with their deduplication keys.
		restarted.loopExecutions.push(...harness.loopExecutions);
		await restarted.startLoop('init');
		await until('the message written while n8n was down', () =>
			textsOf(restarted.loopExecutions).includes('while down') ? true : undefined,
		);
		await sleep(500);
		expect(textsOf(restarted.loopExecutions).sort()).toEqual(['first', 'second', 'while down']);
		expect(restarted.refusedDuplicates.length).toBeGreaterThanOrEqual(1);
	});

	it('deactivated: new dialogs go to operators at once, messages in the bot’s dialogs wait and start executions on activation', async () => {
		const harness = await reliableTrigger();
		await harness.startLoop();
		const botId = bots()[0]?.id;
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'before');
		await executionsReach(harness, 1);
		await harness.stopLoop();
		expect(emu.world.imbot.lines.find((l) => l.id === OPEN_LINES.SUPPORT)).toMatchObject({
			welcomeBotEnable: false,
		});
		const readsWhenStopped = reads();
		// A customer whose dialog had finished writes again: the new session goes to the line's operators.
		const { eventIds } = emu.bots.customerWrites(CHATS.LEAD_WHATSAPP_FINISHED, 'new dialog');
		const join = emu.world.imbot.queue.find(
			(e) => eventIds.includes(e.eventId) && e.type === 'ONIMBOTV2JOINCHAT',
		);
		expect(join).toBeUndefined();
		// The dialogs the bot holds keep their messages in Bitrix24.
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'while off 1');
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'while off 2');
		await sleep(300);
		expect(reads()).toBe(readsWhenStopped);
		await harness.startLoop();
		expect(bots().map((b) => b.id)).toEqual([botId]);
		const executions = await executionsReach(harness, 3);
		expect(textsOf(executions)).toEqual(['before', 'while off 1', 'while off 2']);
		expect(emu.world.imbot.lines.find((l) => l.id === OPEN_LINES.SUPPORT)).toMatchObject({
			welcomeBotEnable: true,
			welcomeBotId: botId,
		});
	});

	it('reads Bitrix24 refuses (429), fails (500), drops or a proxy fails (502) are tried again and reported once: nothing is lost', async () => {
		const harness = await reliableTrigger();
		await harness.startLoop();
		emu.injectFaults(
			[
				{ kind: 'status', status: 429, error: 'QUERY_LIMIT_EXCEEDED' },
				{ kind: 'dropBeforeProcessing' },
				{ kind: 'html', status: 502 },
				{ kind: 'status', status: 500, error: 'INTERNAL_SERVER_ERROR' },
			],
			{ method: 'imbot.v2.Event.get' },
		);
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'through the outage');
		const executions = await executionsReach(harness, 1);
		expect(textsOf(executions)).toEqual(['through the outage']);
		expect(reads()).toBeGreaterThan(4);
		// Four failures in a row: one failed execution of the trigger says so, without the webhook code.
		expect(harness.failedExecutions).toHaveLength(1);
		expect(harness.failedExecutions[0]?.message).toMatch(/imbot\.v2\.Event\.get/);
		expect(JSON.stringify(harness.failedExecutions[0])).not.toContain(WEBHOOK_CODE);
	});

	it('started twice at once (as n8n 2.41.1 does on some activations): one loop, each event handed to n8n once', async () => {
		const harness = await reliableTrigger();
		await Promise.all([harness.startLoop(), harness.startLoop()]);
		for (const text of ['one', 'two', 'three'])
			emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, text);
		await executionsReach(harness, 3);
		await sleep(700);
		expect(textsOf(harness.loopExecutions)).toEqual(['one', 'two', 'three']);
		// Not even refused as duplicates: a second loop would have handed each event over again.
		expect(harness.refusedDuplicates).toEqual([]);
	});

	it('stops at once on deactivation: no read after close returns', async () => {
		const harness = await reliableTrigger();
		await harness.startLoop();
		await until('a read', () => (reads() > 1 ? true : undefined));
		await harness.stopLoop();
		const after = reads();
		await sleep(700);
		expect(reads()).toBe(after);
	});

	it('refuses to take the bot from an active instant-mode workflow', async () => {
		const instant = await TriggerHarness.start({
			parameters: { ...ATTACH_SUPPORT },
			credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emu.webhookUrl } },
		});
		harnesses.push(instant);
		await instant.activate();
		const reliable = await reliableTrigger();
		await expect(reliable.startLoop()).rejects.toThrow(
			'The bot "n8n_open_channels" already delivers its events to another workflow',
		);
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'to the instant workflow');
		await emu.bots.settled();
		expect(instant.executions).toHaveLength(1);
	});

	it('keeps no secret in static data: only the bot, the offset, recent events and the channels’ own settings', async () => {
		const harness = await reliableTrigger();
		await harness.startLoop();
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'hi');
		await executionsReach(harness, 1);
		await sleep(300);
		emu.bots.customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'again');
		await executionsReach(harness, 2);
		const state = harness.staticData[`node:${TRIGGER_NAME}`];
		expect(Object.keys(state as object).sort()).toEqual(
			['botId', 'linesBefore', 'offset', 'recentEvents'].sort(),
		);
		const bot = bots()[0];
		expect(JSON.stringify(harness.staticData)).not.toContain(bot?.botToken ?? 'none');
	});
});
