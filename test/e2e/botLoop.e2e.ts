/**
 * End-to-end: the whole bot loop in a real n8n 2.41.1 server (`n8n start`) against the emulated portal, with the
 * shipped example examples/open-channel-bot.workflow.json imported as it is (only its credential reference
 * pointed at the test's credential). Customers write into open-line chats; the emulator posts the events to n8n's
 * production webhook URL; the workflow's Switch routes each text to a Bot Dialog operation: a keyword answer, Hand
 * Over to Operator, or a goodbye and Finish. The emulator's one bot world records where each reply landed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
	CHATS,
	lineChatState,
	OPEN_LINES,
	WEBHOOK_CODE,
	type Emulator,
	type RegisteredBot,
} from '../../tools/emulator';
import { obj, postJson } from '../../tools/emulator/testClient';
import { REPO_ROOT } from '../../tools/n8n/lines';
import type { Workflow } from '../../tools/n8n/workflows';
import { openEditorLine, type EditorLine } from './support/editorServer';
import { printTimings, progress, timed, waitFor } from './support/harness';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'open-channel-bot.workflow.json');
/** The bot's token in the webhook credential: the trigger registers the bot with it, Bot Dialog acts with it. */
const BOT_TOKEN = 'n8n-e2e-shop-bot-4c9d2a7f1e30';
const CUSTOMER_CHAT = CHATS.LEAD_TELEGRAM_ACTIVE;
const SECOND_CHAT = CHATS.CONTACT_WHATSAPP_ACTIVE;

let line: EditorLine;
const n8nLog: string[] = [];

beforeAll(async () => {
	line = await openEditorLine('2.x', { onOutput: (text) => n8nLog.push(text) });
});

afterAll(async () => {
	await line?.close();
	printTimings();
});

/** The example workflow, its credential references pointed at `credential`. */
function exampleWith(credential: { id: string; name: string }): Workflow {
	const workflow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Workflow;
	for (const node of workflow.nodes)
		if (node.credentials?.bitrix24WebhookApi) node.credentials.bitrix24WebhookApi = credential;
	return workflow;
}

interface ExecutionSummary {
	id: string;
	status: string;
}

async function executionsOf(workflowId: string): Promise<ExecutionSummary[]> {
	const list = await line.client.rest<{ results: ExecutionSummary[] }>(
		'GET',
		`/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
	);
	return list.results;
}

/** Waits until `count` executions of the workflow ended; any that did not succeed fails the test. */
async function executionsEnded(workflowId: string, count: number): Promise<ExecutionSummary[]> {
	return await waitFor(`${count} finished executions`, async () => {
		const executions = await executionsOf(workflowId);
		const failed = executions.find((e) => !['success', 'running', 'new'].includes(e.status));
		if (failed) throw new Error(`execution ${failed.id} ended ${failed.status}`);
		const ended = executions.filter((e) => e.status === 'success');
		return ended.length >= count ? ended : undefined;
	});
}

/** The bot's messages in a chat, oldest first. */
const repliesIn = (emulator: Emulator, chatId: number, bot: RegisteredBot): string[] =>
	(lineChatState(emulator.world, chatId)?.messages ?? [])
		.filter((m) => m.authorId === bot.id)
		.map((m) => m.text);

describe('open channel bot loop in n8n 2.41.1 (examples/open-channel-bot.workflow.json)', () => {
	it('a customer writes, the bot answers in that chat; "operator" hands over; "bye" says goodbye and finishes', async () => {
		const { emulator } = line;
		const credential = await line.client.rest<{ id: string; name: string }>(
			'POST',
			'/rest/credentials',
			{
				name: 'Bitrix24 webhook with bot token (e2e)',
				type: 'bitrix24WebhookApi',
				data: { webhookUrl: emulator.webhookUrl, botToken: BOT_TOKEN },
			},
		);
		const saved = await line.client.rest<{ id: string; versionId: string }>(
			'POST',
			'/rest/workflows',
			exampleWith({ id: credential.id, name: credential.name }),
		);
		await line.client.rest('POST', `/rest/workflows/${saved.id}/activate`, {
			versionId: saved.versionId,
		});
		// n8n 2.x publishes in the background: the activation's hooks run after the API call returns.
		const bot = await waitFor('the bot registered at activation', async () =>
			emulator.world.imbot.registered.find(
				(b) => b.code === 'n8n_shop_bot' && b.eventMode === 'webhook',
			),
		);
		await waitFor('the bot attached to Customer support', async () =>
			emulator.world.imbot.lines.find((l) => l.id === OPEN_LINES.SUPPORT)?.welcomeBotId === bot.id
				? true
				: undefined,
		);
		expect(bot).toMatchObject({ botToken: BOT_TOKEN });
		expect(bot.webhookUrl.startsWith(`${line.baseUrl}/webhook/`)).toBe(true);

		let ended = 0;
		/** The customer writes; the emulator posts to n8n; waits for the execution it starts (if `runs`). */
		const customerWrites = async (chatId: number, text: string, runs = true) =>
			await timed(`customer writes "${text}" -> execution ended`, async () => {
				emulator.bots.customerWrites(chatId, text);
				await emulator.bots.settled();
				if (runs) await executionsEnded(saved.id, ++ended);
			});

		await customerWrites(CUSTOMER_CHAT, 'Where is my order #1045?');
		expect(repliesIn(emulator, CUSTOMER_CHAT, bot)).toEqual([
			'Your order ships within 2 working days; you will get the tracking number here. Write "operator" to talk to a person.',
		]);

		await customerWrites(CUSTOMER_CHAT, 'I want an operator, please');
		expect(emulator.world.imbot.sessionEvents).toEqual([
			expect.objectContaining({ kind: 'operator', chatId: CUSTOMER_CHAT, botId: bot.id }),
		]);
		expect(lineChatState(emulator.world, CUSTOMER_CHAT)).toMatchObject({ holder: 0 });
		expect(lineChatState(emulator.world, CUSTOMER_CHAT)?.members).not.toContain(bot.id);
		// The bot left: the customer's next words reach the operators' queue, not the workflow.
		const delivered = emulator.world.imbot.deliveries.length;
		await customerWrites(CUSTOMER_CHAT, 'Hello? Anyone?', false);
		expect(emulator.world.imbot.deliveries).toHaveLength(delivered);

		await customerWrites(SECOND_CHAT, 'Hi there');
		await customerWrites(SECOND_CHAT, 'Thanks, bye');
		expect(repliesIn(emulator, SECOND_CHAT, bot)).toEqual([
			'Hi! I can tell you about your [b]order[/b] or our [b]prices[/b]. Write "operator" to talk to a person, "bye" to end the chat.',
			'Thank you for writing to us. Bye!',
		]);
		expect(emulator.world.imbot.sessionEvents.map((e) => [e.kind, e.chatId, e.botId])).toEqual([
			['operator', CUSTOMER_CHAT, bot.id],
			['finish', SECOND_CHAT, bot.id],
		]);
		expect(lineChatState(emulator.world, SECOND_CHAT)?.sessionOpen).toBe(false);
		// The first chat's bot reply is still exactly one, and the history shows it with the hand-over.
		expect(repliesIn(emulator, CUSTOMER_CHAT, bot)).toHaveLength(1);
		const history = await postJson(`${emulator.webhookUrl}imopenlines.session.history.get`, {
			CHAT_ID: CUSTOMER_CHAT,
		});
		const texts = Object.values(obj(obj(obj(history.body).result).message)).map((m) => obj(m).text);
		expect(texts).toEqual(
			expect.arrayContaining([
				'Where is my order #1045?',
				repliesIn(emulator, CUSTOMER_CHAT, bot)[0],
				'The chat bot has passed the dialog to an operator',
			]),
		);

		// Four customer messages reached the bot, four executions; no secret in any of them or in n8n's log.
		const executions = await executionsOf(saved.id);
		expect(executions).toHaveLength(4);
		for (const { id } of executions) {
			const execution = await line.client.rest<{ data: string }>('GET', `/rest/executions/${id}`);
			expect(execution.data).not.toContain(BOT_TOKEN);
			expect(execution.data).not.toContain(WEBHOOK_CODE);
		}
		const log = n8nLog.join('\n');
		expect(log).not.toContain(BOT_TOKEN);
		expect(log).not.toContain(WEBHOOK_CODE);
		await line.client.rest('POST', `/rest/workflows/${saved.id}/deactivate`, {});
		progress(`bot loop e2e: ${executions.length} executions, ${n8nLog.length} n8n log lines`);
	});
});
