/**
 * Probe: does n8n 2.41.1's AI Agent run offline with the Bitrix24 Open Channels node as a tool? A stub
 * OpenAI-compatible chat model (a tiny HTTP server on 127.0.0.1) answers the agent's first call with a call of the
 * Bitrix24 tool and its second with a final text; the tool's Bot Dialog > Send Message goes to the emulator.
 *
 *   N8N_E2E_CACHE=/work/main/.cache npx tsx scripts/agentProbe.ts
 *
 * Found (n8n 2.41.1, `n8n execute`, no network): the agent (typeVersion 3.1) with an OpenAI Chat Model whose
 * credential's Base URL is the stub calls /v1/chat/completions twice (not streaming); the package's node appears as
 * the tool `<node name>` ("Reply_to_the_customer") with the `$fromAI` parameter as its schema; the tool call posts
 * imbot.v2.Chat.Message.send once and the message lands in the chat. No N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE needed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import {
	BOT_DIALOGS,
	BOTS,
	lineChatState,
	startEmulator,
	SUPPORT_BOT_TOKEN,
} from '../tools/emulator';
import { ensureN8n } from '../tools/n8n/install';
import { N8nSession, outputItems, PACKAGE_NAME, type JsonObject } from '../tools/n8n/runner';

const REPLY = 'Your order #1045 ships tomorrow.';

interface ChatRequest {
	model?: string;
	stream?: boolean;
	messages?: Array<{ role: string; content?: unknown }>;
	tools?: Array<{ function: { name: string; parameters?: { properties?: JsonObject } } }>;
}

/** The stub model: a tool call while no tool answered yet, then a final answer. */
function answerOf(request: ChatRequest): JsonObject {
	const toolAnswered = (request.messages ?? []).some((m) => m.role === 'tool');
	const [tool] = request.tools ?? [];
	const message =
		!toolAnswered && tool
			? {
					role: 'assistant',
					content: null,
					tool_calls: [
						{
							id: 'call_1',
							type: 'function',
							function: {
								name: tool.function.name,
								arguments: JSON.stringify(
									Object.fromEntries(
										Object.keys(tool.function.parameters?.properties ?? {}).map((k) => [k, REPLY]),
									),
								),
							},
						},
					],
				}
			: { role: 'assistant', content: 'I told the customer their order ships tomorrow.' };
	return {
		id: 'chatcmpl-stub',
		object: 'chat.completion',
		created: Math.floor(Date.now() / 1000),
		model: request.model ?? 'stub',
		choices: [
			{ index: 0, message, finish_reason: 'tool_calls' in message ? 'tool_calls' : 'stop' },
		],
		usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
	};
}

/** The tools the agent offered the model, as it described them. */
const toolSchemas: unknown[] = [];

async function stubModel(log: string[]): Promise<{ url: string; close: () => void }> {
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
		req.on('end', () => {
			const request = (body ? JSON.parse(body) : {}) as ChatRequest;
			log.push(
				`${req.method} ${req.url} stream=${String(request.stream)} tools=${(request.tools ?? []).map((t) => t.function.name).join(',')}`,
			);
			if (req.url?.endsWith('/models')) {
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ data: [{ id: 'stub-model', object: 'model' }] }));
				return;
			}
			if (toolSchemas.length === 0) toolSchemas.push(...(request.tools ?? []));
			const answer = answerOf(request);
			if (request.stream) {
				const choice = (answer.choices as JsonObject[])[0] as JsonObject;
				const message = choice.message as JsonObject;
				const delta = message.tool_calls
					? {
							role: 'assistant',
							tool_calls: (message.tool_calls as JsonObject[]).map((c, index) => ({ index, ...c })),
						}
					: { role: 'assistant', content: message.content };
				res.writeHead(200, { 'content-type': 'text/event-stream' });
				res.write(
					`data: ${JSON.stringify({ ...answer, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`,
				);
				res.write(
					`data: ${JSON.stringify({ ...answer, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: choice.finish_reason }] })}\n\n`,
				);
				res.end('data: [DONE]\n\n');
				return;
			}
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify(answer));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return { url: `http://127.0.0.1:${port}/v1`, close: () => server.close() };
}

async function main(): Promise<void> {
	const installed = await ensureN8n('2.x', (text) => console.log(text));
	const emulator = await startEmulator();
	const calls: string[] = [];
	const model = await stubModel(calls);
	const session = await N8nSession.open(installed, { name: 'agent-probe', log: console.log });
	try {
		await session.importCredentials([
			{
				id: 'b24BotProbe',
				name: 'Bitrix24 bot (probe)',
				type: 'bitrix24WebhookApi',
				data: { webhookUrl: emulator.webhookUrl, botToken: SUPPORT_BOT_TOKEN },
			},
			{
				id: 'openAiStub',
				name: 'Stub model',
				type: 'openAiApi',
				data: { apiKey: 'sk-stub-not-a-key', url: model.url },
			},
		]);
		const workflow = {
			id: 'agentProbe',
			name: 'AI Agent with Bitrix24 tool (probe)',
			settings: { executionOrder: 'v1' },
			connections: {
				Start: { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
				'Stub model': {
					ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]],
				},
				'Reply to the customer': { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
			},
			nodes: [
				{
					id: 'a1',
					name: 'Start',
					type: 'n8n-nodes-base.manualTrigger',
					typeVersion: 1,
					position: [0, 0],
					parameters: {},
				},
				{
					id: 'a2',
					name: 'AI Agent',
					type: '@n8n/n8n-nodes-langchain.agent',
					typeVersion: 3.1,
					position: [300, 0],
					parameters: {
						promptType: 'define',
						text: 'The customer in chat 2001 asks: where is my order #1045? Answer them with the tool.',
						options: {},
					},
				},
				{
					id: 'a3',
					name: 'Stub model',
					type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
					typeVersion: 1.2,
					position: [200, 200],
					parameters: { model: { __rl: true, mode: 'id', value: 'stub-model' }, options: {} },
					credentials: { openAiApi: { id: 'openAiStub', name: 'Stub model' } },
				},
				{
					id: 'a4',
					name: 'Reply to the customer',
					type: `${PACKAGE_NAME}.bitrix24OpenChannelsTool`,
					typeVersion: 1,
					position: [400, 200],
					parameters: {
						toolDescription: 'Sends a message to the customer as the support bot',
						resource: 'botDialog',
						operation: 'sendMessage',
						botId: { __rl: true, mode: 'id', value: String(BOTS.SUPPORT_BOT) },
						dialogChatId: String(BOT_DIALOGS.WITH_BOT),
						text: "={{ $fromAI('text', 'The message to the customer', 'string') }}",
					},
					credentials: { bitrix24WebhookApi: { id: 'b24BotProbe', name: 'Bitrix24 bot (probe)' } },
				},
			],
		};
		await session.importWorkflows([workflow]);
		const result = await session.execute(workflow.id, { timeoutMs: 180_000 });
		console.log(`exit ${String(result.exitCode)} in ${result.seconds.toFixed(1)} s`);
		console.log('model calls:', calls);
		console.log('tool schema:', JSON.stringify(toolSchemas));
		console.log('agent output:', JSON.stringify(outputItems(result, 'AI Agent')));
		const error = result.run.data.resultData.error;
		if (error) console.log('error:', error.message, error.description ?? '');
		const replies = (lineChatState(emulator.world, BOT_DIALOGS.WITH_BOT)?.messages ?? []).filter(
			(m) => m.authorId === BOTS.SUPPORT_BOT,
		);
		console.log(
			'bot messages in chat 2001:',
			replies.map((m) => m.text),
		);
		console.log(
			'portal calls:',
			emulator.requests.map((r) => `${r.restMethod} ${String(r.status)}`),
		);
	} finally {
		model.close();
		await emulator.close();
		if (process.env.KEEP !== '1') session.remove();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
