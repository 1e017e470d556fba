/**
 * End-to-end: the whole bot loop in a real n8n 2.41.1 server (`n8n start`) against the emulated portal, with the
 * shipped example examples/open-channel-bot.workflow.json imported as it is (only its credential reference
 * pointed at the test's credential). Customers write into open-line chats; the emulator posts the events to n8n's
 * production webhook URL; the workflow's Switch routes each text to a Bot Dialog operation: a keyword answer, Hand
 * Over to Operator, or a goodbye and Finish. The emulator's one bot world records where each reply landed.
 * The same server then runs examples/open-channel-ai-agent.workflow.json: n8n's AI Agent with the package's node
 * as its tools, its OpenAI credential pointed at a scripted stub model on 127.0.0.1 (tools/n8n/stubChatModel.ts).
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
import { parseExecutionData, type JsonObject } from '../../tools/n8n/runner';
import { lastUserText, startStubChatModel, toolAnswered } from '../../tools/n8n/stubChatModel';
import type { Workflow } from '../../tools/n8n/workflows';
import { openEditorLine, type EditorLine } from './support/editorServer';
import { printTimings, progress, timed, waitFor } from './support/harness';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'open-channel-bot.workflow.json');
const AI_EXAMPLE = path.join(REPO_ROOT, 'examples', 'open-channel-ai-agent.workflow.json');
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

type CredentialRef = { id: string; name: string };

/** An example workflow as shipped, its credential references (by credential type) pointed at the test's. */
function exampleWith(file: string, credentials: Record<string, CredentialRef>): Workflow {
	const workflow = JSON.parse(fs.readFileSync(file, 'utf8')) as Workflow;
	for (const { credentials: used } of workflow.nodes)
		for (const type of Object.keys(used ?? {}))
			if (used && credentials[type]) used[type] = credentials[type];
	return workflow;
}

/** Saves the workflow, activates it and waits for its trigger to register the bot `code` and attach it to line 1. */
async function activated(
	workflow: Workflow,
	code: string,
): Promise<{ id: string; bot: RegisteredBot }> {
	const { emulator } = line;
	const saved = await line.client.rest<{ id: string; versionId: string }>(
		'POST',
		'/rest/workflows',
		workflow,
	);
	await line.client.rest('POST', `/rest/workflows/${saved.id}/activate`, {
		versionId: saved.versionId,
	});
	// n8n 2.x publishes in the background: the activation's hooks run after the API call returns.
	const bot = await waitFor(`the bot ${code} registered at activation`, async () =>
		emulator.world.imbot.registered.find((b) => b.code === code && b.eventMode === 'webhook'),
	);
	await waitFor(`the bot ${code} attached to Customer support`, async () =>
		emulator.world.imbot.lines.find((l) => l.id === OPEN_LINES.SUPPORT)?.welcomeBotId === bot.id
			? true
			: undefined,
	);
	return { id: saved.id, bot };
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
		if (failed) {
			const { data } = await line.client.rest<{ data: string }>(
				'GET',
				`/rest/executions/${failed.id}`,
			);
			const error = parseExecutionData(line.installed, data).resultData.error;
			throw new Error(`execution ${failed.id} ended ${failed.status}: ${error?.message ?? ''}`);
		}
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
	it('a customer writes, the bot answers in that chat with buttons; a press routes by its command, "2 Talk to a person" hands over; "bye" says goodbye and finishes', async () => {
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
		const { id: workflowId, bot } = await activated(
			exampleWith(EXAMPLE, { bitrix24WebhookApi: { id: credential.id, name: credential.name } }),
			'n8n_shop_bot',
		);
		expect(bot).toMatchObject({ botToken: BOT_TOKEN });
		expect(bot.webhookUrl.startsWith(`${line.baseUrl}/webhook/`)).toBe(true);

		let ended = 0;
		/** The customer writes; the emulator posts to n8n; waits for the execution it starts (if `runs`). */
		const customerWrites = async (chatId: number, text: string, runs = true) =>
			await timed(`customer writes "${text}" -> execution ended`, async () => {
				emulator.bots.customerWrites(chatId, text);
				await emulator.bots.settled();
				if (runs) await executionsEnded(workflowId, ++ended);
			});

		/** The customer presses a button of the bot's last message; waits for the execution it starts. */
		const customerPresses = async (chatId: number, button: string) =>
			await timed(`customer presses "${button}" -> execution ended`, async () => {
				const last = (lineChatState(emulator.world, chatId)?.messages ?? [])
					.filter((m) => m.authorId === bot.id)
					.at(-1);
				emulator.bots.customerPresses(chatId, last?.id ?? 0, button);
				await emulator.bots.settled();
				await executionsEnded(workflowId, ++ended);
			});

		// Activation registered the trigger's Button Commands with the bot, usable by customers.
		expect(
			emulator.world.imbot.commands.map((c) => [c.botId, c.command, c.extranetSupport]),
		).toEqual([
			[bot.id, 'order_status', true],
			[bot.id, 'operator', true],
		]);
		const orderAnswer =
			'Your order ships within 2 working days; you will get the tracking number here. Write "operator" to talk to a person.';
		await customerWrites(CUSTOMER_CHAT, 'Where is my order #1045?');
		expect(repliesIn(emulator, CUSTOMER_CHAT, bot)).toEqual([orderAnswer]);
		const answer = lineChatState(emulator.world, CUSTOMER_CHAT)?.messages.at(-1);
		expect(answer?.keyboard).toEqual([
			{ TEXT: '1 Order status', COMMAND: 'order_status' },
			{ TEXT: '2 Talk to a person', COMMAND: 'operator' },
		]);
		// "1 Order status" is routed by its command: the order answer again, with the buttons.
		await customerPresses(CUSTOMER_CHAT, '1 Order status');
		expect(repliesIn(emulator, CUSTOMER_CHAT, bot)).toEqual([orderAnswer, orderAnswer]);

		await customerPresses(CUSTOMER_CHAT, '2 Talk to a person');
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
		// The first chat's bot replies are still exactly two, and the history shows them with the hand-over.
		expect(repliesIn(emulator, CUSTOMER_CHAT, bot)).toHaveLength(2);
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

		// Three customer messages and two presses reached the bot, five executions; no secret in any of them or in
		// n8n's log.
		const executions = await executionsOf(workflowId);
		expect(executions).toHaveLength(5);
		for (const { id } of executions) {
			const execution = await line.client.rest<{ data: string }>('GET', `/rest/executions/${id}`);
			expect(execution.data).not.toContain(BOT_TOKEN);
			expect(execution.data).not.toContain(WEBHOOK_CODE);
		}
		const log = n8nLog.join('\n');
		expect(log).not.toContain(BOT_TOKEN);
		expect(log).not.toContain(WEBHOOK_CODE);
		await line.client.rest('POST', `/rest/workflows/${workflowId}/deactivate`, {});
		progress(`bot loop e2e: ${executions.length} executions, ${n8nLog.length} n8n log lines`);
	});
});

describe('AI agent with the node as its tools in n8n 2.41.1 (examples/open-channel-ai-agent.workflow.json)', () => {
	const AI_BOT_TOKEN = 'n8n-e2e-ai-bot-9b1e5c3a7d42';
	const FAKE_OPENAI_KEY = 'sk-e2e-stub-not-a-key-7f3a91c04d2b';
	const ORDER_CHAT = CHATS.LEAD2_LIVECHAT_ACTIVE;
	const OPERATOR_CHAT = CHATS.LEAD_LIVECHAT_NEW;
	const MODEL_REPLY =
		'Your order #1045 ships within 2 working days; the tracking number comes in this chat.';

	it('the model\'s tool call posts its one reply into the customer\'s chat; "operator" makes it hand over', async () => {
		const { emulator } = line;
		// The model's script: reply through the Bitrix24 tool (hand over when asked for an operator), then finish.
		const model = await startStubChatModel((request) => {
			if (toolAnswered(request)) return { answer: 'Done: the customer has their answer.' };
			return /operator/i.test(lastUserText(request))
				? { callTool: 'Hand_over_to_operator', args: {} }
				: { callTool: 'Reply_to_the_customer', args: { text: MODEL_REPLY } };
		});
		try {
			const credential = async (name: string, type: string, data: JsonObject) =>
				await line.client.rest<CredentialRef>('POST', '/rest/credentials', { name, type, data });
			const bitrix24 = await credential('Bitrix24 AI bot (e2e)', 'bitrix24WebhookApi', {
				webhookUrl: emulator.webhookUrl,
				botToken: AI_BOT_TOKEN,
			});
			const openAi = await credential('Stub model (e2e)', 'openAiApi', {
				apiKey: FAKE_OPENAI_KEY,
				url: model.baseUrl,
			});
			const { id: workflowId, bot } = await activated(
				exampleWith(AI_EXAMPLE, {
					bitrix24WebhookApi: { id: bitrix24.id, name: bitrix24.name },
					openAiApi: { id: openAi.id, name: openAi.name },
				}),
				'n8n_ai_assistant',
			);
			expect(bot).toMatchObject({ botToken: AI_BOT_TOKEN });

			await timed('AI agent: customer writes -> tool reply -> execution ended', async () => {
				emulator.bots.customerWrites(ORDER_CHAT, 'Where is my order #1045?');
				await emulator.bots.settled();
				await executionsEnded(workflowId, 1);
			});
			expect(repliesIn(emulator, ORDER_CHAT, bot)).toEqual([MODEL_REPLY]);
			// Two model turns (the tool call, the final answer); the customer's text was the user message, both
			// tools were offered, and every request carried the credential's key.
			expect(model.requests).toHaveLength(2);
			expect(lastUserText(model.requests[0]!.body)).toBe('Where is my order #1045?');
			expect(model.requests[0]!.body.tools?.map((t) => t.function.name).sort()).toEqual([
				'Hand_over_to_operator',
				'Reply_to_the_customer',
			]);
			expect(model.requests.map((r) => r.apiKey)).toEqual([FAKE_OPENAI_KEY, FAKE_OPENAI_KEY]);

			await timed('AI agent: customer asks for an operator -> hand-over tool', async () => {
				emulator.bots.customerWrites(OPERATOR_CHAT, 'Can I talk to an operator?');
				await emulator.bots.settled();
				await executionsEnded(workflowId, 2);
			});
			expect(
				emulator.world.imbot.sessionEvents
					.filter((e) => e.botId === bot.id)
					.map((e) => [e.kind, e.chatId]),
			).toEqual([['operator', OPERATOR_CHAT]]);
			expect(repliesIn(emulator, OPERATOR_CHAT, bot)).toEqual([]);
			expect(repliesIn(emulator, ORDER_CHAT, bot)).toHaveLength(1);

			const executions = await executionsOf(workflowId);
			expect(executions).toHaveLength(2);
			for (const { id } of executions) {
				const execution = await line.client.rest<{ data: string }>('GET', `/rest/executions/${id}`);
				for (const secret of [AI_BOT_TOKEN, WEBHOOK_CODE, FAKE_OPENAI_KEY])
					expect(execution.data).not.toContain(secret);
			}
			const log = n8nLog.join('\n');
			for (const secret of [AI_BOT_TOKEN, WEBHOOK_CODE, FAKE_OPENAI_KEY])
				expect(log).not.toContain(secret);
			await line.client.rest('POST', `/rest/workflows/${workflowId}/deactivate`, {});
		} finally {
			await model.close();
		}
	});
});
