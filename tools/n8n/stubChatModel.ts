/**
 * A scripted stand-in for an OpenAI-compatible chat model: a real HTTP server on 127.0.0.1 answering
 * POST <baseUrl>/chat/completions in the (non-streaming) shape n8n's OpenAI Chat Model node reads. Point an
 * `openAiApi` credential's Base URL at `baseUrl` and n8n's AI Agent runs offline: each turn the script decides
 * whether the model calls one of the tools the agent offered, or answers with its final text. Every request is
 * recorded, with the API key it carried, so tests can see what the agent sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { JsonObject } from './runner';

export interface ChatMessage {
	role: string;
	content?: unknown;
}

export interface ChatCompletionRequest {
	model?: string;
	stream?: boolean;
	messages: ChatMessage[];
	/** The tools the agent offers, named after their nodes (spaces become underscores). */
	tools?: Array<{ function: { name: string; description?: string; parameters?: JsonObject } }>;
}

/** One model turn: call a tool with these arguments, or answer with the final text. */
export type ModelTurn = { callTool: string; args: JsonObject } | { answer: string };

export interface RecordedChatRequest {
	path: string;
	/** The bearer token the request carried (the credential's API key). */
	apiKey: string;
	body: ChatCompletionRequest;
}

export interface StubChatModel {
	/** The credential's Base URL, e.g. http://127.0.0.1:PORT/v1 */
	baseUrl: string;
	requests: RecordedChatRequest[];
	close(): Promise<void>;
}

/** The text of the conversation's latest user message. */
export function lastUserText(request: ChatCompletionRequest): string {
	const user = request.messages.filter((m) => m.role === 'user').at(-1);
	return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content ?? '');
}

/** True once a tool's result is in the conversation (the agent ran the tool the model called). */
export const toolAnswered = (request: ChatCompletionRequest): boolean =>
	request.messages.some((m) => m.role === 'tool');

function completion(request: ChatCompletionRequest, turn: ModelTurn): JsonObject {
	const offered = (request.tools ?? []).map((t) => t.function.name);
	if ('callTool' in turn && !offered.includes(turn.callTool))
		throw new Error(`the script calls "${turn.callTool}"; the agent offered ${offered.join(', ')}`);
	const message =
		'callTool' in turn
			? {
					role: 'assistant',
					content: null,
					tool_calls: [
						{
							id: `call_${turn.callTool}`,
							type: 'function',
							function: { name: turn.callTool, arguments: JSON.stringify(turn.args) },
						},
					],
				}
			: { role: 'assistant', content: turn.answer };
	return {
		id: 'chatcmpl-stub',
		object: 'chat.completion',
		created: Math.floor(Date.now() / 1000),
		model: request.model ?? 'stub-model',
		choices: [{ index: 0, message, finish_reason: 'callTool' in turn ? 'tool_calls' : 'stop' }],
		usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
	};
}

export async function startStubChatModel(
	script: (request: ChatCompletionRequest) => ModelTurn,
): Promise<StubChatModel> {
	const requests: RecordedChatRequest[] = [];
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const answer = (status: number, body: JsonObject) => {
				res.writeHead(status, { 'content-type': 'application/json' });
				res.end(JSON.stringify(body));
			};
			if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions'))
				return answer(404, { error: { message: `no ${req.method} ${req.url} here` } });
			const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatCompletionRequest;
			const apiKey = (req.headers.authorization ?? '').replace(/^Bearer /, '');
			requests.push({ path: req.url, apiKey, body });
			// The agent streams only to a chat or streaming webhook caller; an event trigger never asks.
			if (body.stream) return answer(400, { error: { message: 'the stub does not stream' } });
			try {
				answer(200, completion(body, script(body)));
			} catch (error) {
				answer(400, { error: { message: (error as Error).message } });
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		baseUrl: `http://127.0.0.1:${port}/v1`,
		requests,
		close: () =>
			new Promise((resolve) => {
				server.close(() => resolve());
				// n8n's client keeps its connection alive; closing waits for none.
				server.closeAllConnections();
			}),
	};
}
