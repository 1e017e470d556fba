/**
 * `npm run dev`: the n8n editor on http://127.0.0.1:5678 with this package installed, the Bitrix24 portal
 * emulator running, the example workflow and both credentials (webhook and OAuth2, pointing at the
 * emulator) already there, and the owner account set up so a person can sign in, open the workflow, click
 * the node and run it. Stop with Ctrl+C.
 *
 *   npx tsx scripts/dev.ts [--port 5678] [--emulator-port 8089] [--n8n 2.x|1.x] [--fresh] [--verbose] [--user-folder DIR]
 *
 * The user folder (.cache/dev-<line>, or --user-folder) is kept between starts, so workflows you build stay; every start
 * re-installs the freshly built package and re-imports the example workflow and the two credentials (same
 * IDs, so they are replaced). --fresh starts from an empty folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
	OAUTH_CLIENT_ID,
	OAUTH_CLIENT_SECRET,
	startEmulator,
	type Emulator,
} from '../tools/emulator';
import { ensureN8n } from '../tools/n8n/install';
import { cacheRoot, LINES, parseLines, type LineName } from '../tools/n8n/lines';
import { N8nSession } from '../tools/n8n/runner';
import {
	exampleWebhookCredential,
	loadExample,
	oauthCredential,
	webhookCredential,
} from '../tools/n8n/workflows';
import { runWhenStarted } from '../tools/runWhenStarted';

/** The owner account the script creates; local only, on 127.0.0.1. */
export const DEV_OWNER = {
	email: 'owner@bitrix24-example.test',
	firstName: 'Demo',
	lastName: 'Owner',
	password: 'Bitrix24-demo-1',
} as const;

export const DEV_OAUTH_CREDENTIAL = {
	id: 'b24ExampleOAuth2',
	name: 'Bitrix24 OAuth2 (example)',
} as const;

interface DevOptions {
	port: number;
	emulatorPort: number;
	line: LineName;
	fresh: boolean;
	verbose: boolean;
	userFolder?: string;
}

function parseArgs(argv: readonly string[]): DevOptions {
	const options: DevOptions = {
		port: 5678,
		emulatorPort: 8089,
		line: '2.x',
		fresh: false,
		verbose: false,
	};
	for (let i = 0; i < argv.length; i++) {
		const [flag = '', inline] = (argv[i] ?? '').split('=', 2);
		const value = () => inline ?? argv[++i] ?? '';
		if (flag === '--port') options.port = Number(value());
		else if (flag === '--emulator-port') options.emulatorPort = Number(value());
		else if (flag === '--n8n') options.line = parseLines(value())[0] ?? '2.x';
		else if (flag === '--fresh') options.fresh = true;
		else if (flag === '--verbose') options.verbose = true;
		else if (flag === '--user-folder') options.userFolder = path.resolve(value());
		else
			throw new Error(
				`Unknown argument ${argv[i]} (use --port, --emulator-port, --n8n, --fresh, --verbose, --user-folder)`,
			);
	}
	if (!Number.isInteger(options.port) || !Number.isInteger(options.emulatorPort))
		throw new Error('Ports must be whole numbers');
	return options;
}

/**
 * Creates the owner account through the editor's own API (400 once an owner exists). /healthz answers
 * before the REST routes are registered, so a 404 means "not yet".
 */
export async function setUpOwner(baseUrl: string): Promise<'created' | 'exists'> {
	const deadline = Date.now() + 90_000;
	for (;;) {
		const response = await fetch(`${baseUrl}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(DEV_OWNER),
		});
		if (response.ok) return 'created';
		const text = await response.text();
		if (response.status === 400 && /already|setup/i.test(text)) return 'exists';
		if (response.status !== 404 || Date.now() > deadline) {
			throw new Error(`Owner setup failed: HTTP ${response.status} ${text.slice(0, 300)}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
}

export interface DevEnvironment {
	editorUrl: string;
	emulator: Emulator;
	session: N8nSession;
	/** Resolves when the editor process exits (by stop() or on its own). */
	exited: Promise<number | null>;
	stop(): Promise<void>;
}

/** Everything `npm run dev` starts; resolves once the editor answers and the owner exists. */
export async function startDev(
	argv: readonly string[] = [],
	log: (line: string) => void = console.log,
): Promise<DevEnvironment> {
	const options = parseArgs(argv);
	const line = LINES[options.line];
	const installed = await ensureN8n(options.line, log);
	const emulator = await startEmulator({ port: options.emulatorPort });
	try {
		log(`Emulated Bitrix24 portal: ${emulator.baseUrl} (webhook ${emulator.webhookUrl})`);
		const userFolder = options.userFolder ?? path.join(cacheRoot(), `dev-${options.line}`);
		if (options.fresh) fs.rmSync(userFolder, { recursive: true, force: true });
		const session = await N8nSession.open(installed, { name: 'dev', userFolder, log });
		const tokens = emulator.issueOAuthTokens();
		await session.importCredentials([
			webhookCredential(exampleWebhookCredential(), emulator.webhookUrl),
			oauthCredential(DEV_OAUTH_CREDENTIAL, {
				portalUrl: emulator.baseUrl,
				accessTokenUrl: emulator.tokenUrl,
				clientId: OAUTH_CLIENT_ID,
				clientSecret: OAUTH_CLIENT_SECRET,
				tokens,
			}),
		]);
		await session.importWorkflows([loadExample() as unknown as Record<string, unknown>]);
		log(`Starting the n8n ${line.n8nVersion} editor on http://127.0.0.1:${options.port} ...`);
		const editor = await session.startEditor(options.port, {
			onOutput: options.verbose ? log : undefined,
		});
		const editorUrl = `http://127.0.0.1:${options.port}`;
		let owner: 'created' | 'exists';
		try {
			owner = await setUpOwner(editorUrl);
		} catch (error) {
			await editor.stop();
			throw error;
		}
		log(
			owner === 'created'
				? `  owner account created: ${DEV_OWNER.email}`
				: '  owner account already set up',
		);
		let stopped = false;
		const stop = async () => {
			if (stopped) return;
			stopped = true;
			await editor.stop();
			await emulator.close();
		};
		const exited = editor.exited.then((code) => {
			if (!stopped) log(`n8n exited (code ${code})`);
			return code;
		});
		return { editorUrl, emulator, session, exited, stop };
	} catch (error) {
		await emulator.close();
		throw error;
	}
}

export async function main(argv: readonly string[] = []): Promise<void> {
	const dev = await startDev(argv);
	const example = loadExample();
	console.log(
		[
			'',
			`n8n editor: ${dev.editorUrl}`,
			`  sign in as ${DEV_OWNER.email} / ${DEV_OWNER.password}`,
			`  workflow: ${dev.editorUrl}/workflow/${example.id}  ("${example.name}")`,
			`  credentials: "${exampleWebhookCredential().name}" (used by the workflow) and "${DEV_OAUTH_CREDENTIAL.name}"`,
			`  (switch the node's Authentication to OAuth2 to use it); both point at ${dev.emulator.baseUrl}`,
			`  emulator control: ${dev.emulator.baseUrl}/_emulator/state (messages it accepted)`,
			'Press Ctrl+C to stop.',
		].join('\n'),
	);
	await new Promise<void>((resolve) => {
		let stopping = false;
		const shutdown = (signal: string) => {
			if (stopping) return;
			stopping = true;
			console.log(`\n${signal}: stopping n8n and the emulator`);
			dev.stop().then(resolve, resolve);
		};
		process.once('SIGINT', () => shutdown('SIGINT'));
		process.once('SIGTERM', () => shutdown('SIGTERM'));
		void dev.exited.then(() => shutdown('n8n exited'));
	});
}

runWhenStarted(module, main);
