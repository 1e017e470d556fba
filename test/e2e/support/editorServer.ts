/**
 * A real n8n server (`n8n start`) per line, driven through its REST API the way the editor in a browser drives
 * it: an owner account set up over REST, a cookie jar (n8n's auth cookie and any other cookie n8n sets, sent
 * back on its paths), the editor's `browser-id` header, workflow runs through "Execute workflow" read back
 * from the executions API. Also what the OAuth connect test needs to watch the emulated portal's token
 * endpoint answer. Node built-ins, timers and process live here, outside n8n's lint rules for *.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

import { startEmulator, type Emulator, type EmulatorOptions } from '../../../tools/emulator';
import { ensureN8n, type InstalledN8n } from '../../../tools/n8n/install';
import { LINES, type LineName, type N8nLine } from '../../../tools/n8n/lines';
import {
	N8nSession,
	freePort,
	parseExecutionData,
	type EditorProcess,
	type ExecutionResult,
	type JsonObject,
} from '../../../tools/n8n/runner';
import type { Workflow } from '../../../tools/n8n/workflows';
import { progress, waitFor } from './harness';

/** The owner account of the test server (local only, on 127.0.0.1). */
export const E2E_OWNER = {
	email: 'owner@bitrix24-e2e.test',
	firstName: 'E2e',
	lastName: 'Owner',
	password: 'Bitrix24-e2e-1',
} as const;

export interface HttpAnswer {
	status: number;
	/** Location header of a redirect. */
	location: string | null;
	text: string;
}

/**
 * Talks to one n8n server like the editor in one browser: cookies kept per name (with their Path), the
 * editor's `browser-id` header on REST calls (n8n binds its auth cookie to it).
 */
export class EditorClient {
	readonly browserId = randomUUID();

	private readonly cookies = new Map<string, { value: string; path: string }>();

	constructor(readonly baseUrl: string) {}

	/** Names of the cookies n8n has set so far. */
	cookieNames(): string[] {
		return [...this.cookies.keys()];
	}

	private cookieHeader(url: URL): string {
		return [...this.cookies.entries()]
			.filter(([, cookie]) => url.pathname.startsWith(cookie.path))
			.map(([name, cookie]) => `${name}=${cookie.value}`)
			.join('; ');
	}

	private keepCookies(response: Response): void {
		for (const line of response.headers.getSetCookie()) {
			const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
			const eq = pair.indexOf('=');
			if (eq <= 0) continue;
			const name = pair.slice(0, eq);
			const value = pair.slice(eq + 1);
			const pathAttribute = attributes.find((a) => /^path=/i.test(a));
			const expired = attributes.some(
				(a) => /^max-age=0$/i.test(a) || /^expires=thu, 01 jan 1970/i.test(a),
			);
			if (expired || value === '') this.cookies.delete(name);
			else this.cookies.set(name, { value, path: pathAttribute ? pathAttribute.slice(5) : '/' });
		}
	}

	/**
	 * One request to the n8n server, redirects not followed. `browser: true` is a page load (a top-level
	 * navigation): cookies only, no editor headers.
	 */
	async request(
		method: string,
		pathOrUrl: string,
		options: { body?: unknown; browser?: boolean } = {},
	): Promise<HttpAnswer> {
		const url = new URL(pathOrUrl, this.baseUrl);
		if (url.origin !== new URL(this.baseUrl).origin)
			throw new Error(`${url.toString()} is not on the n8n server ${this.baseUrl}`);
		const headers: Record<string, string> = {};
		const cookie = this.cookieHeader(url);
		if (cookie !== '') headers.cookie = cookie;
		if (!options.browser) headers['browser-id'] = this.browserId;
		if (options.body !== undefined) headers['content-type'] = 'application/json';
		const response = await fetch(url, {
			method,
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
			redirect: 'manual',
		});
		this.keepCookies(response);
		return {
			status: response.status,
			location: response.headers.get('location'),
			text: await response.text(),
		};
	}

	/** A REST call that must succeed; returns the `data` of n8n's `{data}` envelope. */
	async rest<T = JsonObject>(method: string, path: string, body?: unknown): Promise<T> {
		const answer = await this.request(method, path, { body });
		if (answer.status < 200 || answer.status >= 300) {
			throw new Error(`${method} ${path}: HTTP ${answer.status} ${answer.text.slice(0, 500)}`);
		}
		return (JSON.parse(answer.text) as { data: T }).data;
	}

	/**
	 * Creates the owner account through n8n's owner-setup API, which signs it in (auth cookie). /healthz
	 * answers before the REST routes are registered: a 404 or the start-up page means "not yet".
	 */
	async setUpOwner(): Promise<void> {
		await waitFor(
			'the owner setup API',
			async () => {
				const answer = await this.request('POST', '/rest/owner/setup', { body: E2E_OWNER });
				// While it boots, n8n answers every route with 200 "n8n is starting up. Please wait" (text/html).
				if (answer.status === 404 || /starting up/i.test(answer.text)) return undefined;
				if (answer.status === 200) return true;
				throw new Error(`Owner setup failed: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
			},
			90_000,
		);
		if (!this.cookies.has('n8n-auth'))
			throw new Error(
				`Owner setup set no n8n-auth cookie (cookies: ${this.cookieNames().join(', ')})`,
			);
	}

	/**
	 * Saves the workflow through the REST API and runs it as the editor's "Execute workflow" button does,
	 * by the n8n server process; resolves with the finished execution.
	 */
	async runWorkflow(
		line: LineName,
		installed: InstalledN8n,
		workflow: Workflow,
		triggerName: string,
	): Promise<ExecutionResult & { status: string }> {
		const { id, name, nodes, connections, settings } = workflow;
		const saved = await this.rest<JsonObject & { id: string }>('POST', '/rest/workflows', {
			id,
			name,
			nodes,
			connections,
			settings,
			active: false,
		});
		// 1.x takes the workflow in the body; 2.x loads it from the database.
		const runBody =
			line === '1.x'
				? { workflowData: saved, triggerToStartFrom: { name: triggerName } }
				: { triggerToStartFrom: { name: triggerName } };
		const started = Date.now();
		const { executionId } = await this.rest<{ executionId: string }>(
			'POST',
			`/rest/workflows/${saved.id}/run`,
			runBody,
		);
		const execution = await waitFor('the manual execution', async () => {
			const data = await this.rest<{ status: string; data: string }>(
				'GET',
				`/rest/executions/${executionId}`,
			);
			return ['success', 'error', 'crashed'].includes(data.status) ? data : undefined;
		});
		const run = { status: execution.status, data: parseExecutionData(installed, execution.data) };
		return {
			exitCode: execution.status === 'success' ? 0 : 1,
			run,
			seconds: (Date.now() - started) / 1000,
			status: execution.status,
		};
	}
}

export interface EditorLine {
	line: N8nLine;
	installed: InstalledN8n;
	session: N8nSession;
	emulator: Emulator;
	editor: EditorProcess;
	/** http://127.0.0.1:<port> */
	baseUrl: string;
	/** Signed in as the owner. */
	client: EditorClient;
	/**
	 * Takes n8n down, `kill` (SIGKILL to its process group: a crash) or `stop` (SIGTERM: a clean shutdown), runs
	 * `whileDown`, and starts it again on the same user folder (database) and port. `editor` is the new process.
	 */
	restart(how: 'kill' | 'stop', whileDown?: () => Promise<void>): Promise<void>;
	close(): Promise<void>;
}

/**
 * The line's n8n (installed once) on a fresh user folder with the packed package installed, the emulator,
 * and `n8n start` on 127.0.0.1:<free port> with the owner set up and signed in.
 */
export async function openEditorLine(
	name: LineName,
	options: {
		verbose?: boolean;
		onOutput?: (text: string) => void;
		/** n8n settings (environment) for the session's commands, after the line's. */
		env?: Record<string, string>;
		/** The emulator's options (its clock). */
		emulator?: EmulatorOptions;
	} = {},
): Promise<EditorLine> {
	const installed = await ensureN8n(name, progress);
	const emulator = await startEmulator(options.emulator);
	let session: N8nSession | undefined;
	let editor: EditorProcess | undefined;
	const close = async () => {
		await editor?.stop();
		await emulator.close();
		if (session && process.env.N8N_E2E_KEEP !== '1') session.remove();
	};
	try {
		session = await N8nSession.open(installed, {
			name: 'e2e-oauth',
			log: progress,
			env: options.env,
		});
		const port = await freePort();
		const verbose = options.verbose ?? process.env.N8N_E2E_VERBOSE === '1';
		editor = await session.startEditor(port, {
			onOutput: (text) => {
				options.onOutput?.(text);
				if (verbose) progress(`n8n: ${text}`);
			},
		});
		const baseUrl = `http://127.0.0.1:${port}`;
		const client = new EditorClient(baseUrl);
		await client.setUpOwner();
		const restart = async (how: 'kill' | 'stop', whileDown?: () => Promise<void>) => {
			const running = editor;
			if (running === undefined || session === undefined) throw new Error('n8n is not running');
			if (how === 'kill') {
				if (running.child.pid) process.kill(-running.child.pid, 'SIGKILL');
				await running.exited;
			} else await running.stop();
			progress(`n8n ${how === 'kill' ? 'killed (SIGKILL)' : 'stopped (SIGTERM)'}`);
			await whileDown?.();
			editor = await session.startEditor(port, {
				onOutput: (text) => {
					options.onOutput?.(text);
					if (verbose) progress(`n8n: ${text}`);
				},
			});
			lineContext.editor = editor;
			progress(`n8n started again (pid ${editor.child.pid})`);
		};
		progress(
			`n8n ${installed.line.n8nVersion} server on ${baseUrl} (pid ${editor.child.pid}), user folder ${session.userFolder}, portal ${emulator.baseUrl}`,
		);
		const lineContext: EditorLine = {
			line: LINES[name],
			installed,
			session,
			emulator,
			editor,
			baseUrl,
			client,
			restart,
			close,
		};
		return lineContext;
	} catch (error) {
		await close();
		throw error;
	}
}

/** What the emulated portal's token endpoint answered: its status and JSON body, in order. */
export interface TokenAnswer {
	status: number;
	body: JsonObject;
}

/**
 * Records the answers of the emulator's /oauth/token/ endpoint (RecordedRequest keeps the status and error
 * code, not the tokens handed out). Observes only: the emulator still writes every byte itself.
 */
export function recordTokenAnswers(emulator: Emulator): TokenAnswer[] {
	const server = (emulator as Emulator & { server?: Server }).server;
	if (!server) throw new Error('The emulator exposes no HTTP server to observe');
	const answers: TokenAnswer[] = [];
	server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
		if (!/^\/oauth\/token\/?(\?|$)/.test(req.url ?? '')) return;
		const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
		res.end = ((...args: unknown[]) => {
			const [chunk] = args;
			const text =
				typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
			let body: JsonObject = {};
			try {
				body = JSON.parse(text) as JsonObject;
			} catch {
				body = { unparsed: text };
			}
			answers.push({ status: res.statusCode, body });
			return end(...args);
		}) as ServerResponse['end'];
	});
	return answers;
}
