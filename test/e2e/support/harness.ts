/**
 * What the e2e tests need from outside n8n's lint rules (Node built-ins, process, timers): which n8n lines to
 * run, live progress on stderr, a session per line, timings, and running the repo's own scripts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { startEmulator, type Emulator } from '../../../tools/emulator';
import { ensureN8n } from '../../../tools/n8n/install';
import {
	LINES,
	REPO_ROOT,
	cacheRoot,
	parseLines,
	type LineName,
	type N8nLine,
} from '../../../tools/n8n/lines';
import { N8nSession, PACKAGE_NAME } from '../../../tools/n8n/runner';

export type { LineName } from '../../../tools/n8n/lines';

/** `N8N_E2E_LINES=2.x|1.x|all` (default all). */
export function linesUnderTest(): LineName[] {
	return parseLines(process.env.N8N_E2E_LINES);
}

/** A progress line on stderr, live (jest buffers console output of tests). */
export function progress(text: string): void {
	process.stderr.write(`[e2e] ${text}\n`);
}

const timings: Array<{ label: string; seconds: number }> = [];

/** Runs fn, prints and records how long it took. */
export async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
	const started = Date.now();
	progress(`${label} ...`);
	try {
		return await fn();
	} finally {
		const seconds = (Date.now() - started) / 1000;
		timings.push({ label, seconds });
		progress(`${label}: ${seconds.toFixed(1)} s`);
	}
}

export function printTimings(): void {
	if (timings.length === 0) return;
	const width = Math.max(...timings.map((t) => t.label.length));
	process.stderr.write(
		`\n[e2e] timings\n${timings.map((t) => `  ${t.label.padEnd(width)}  ${t.seconds.toFixed(1).padStart(6)} s`).join('\n')}\n`,
	);
}

export interface LineContext {
	line: N8nLine;
	session: N8nSession;
	emulator: Emulator;
	close(): Promise<void>;
}

/** Installs (once) and opens the line's n8n on a fresh user folder, with a fresh emulator at default budget. */
export async function openLine(name: LineName): Promise<LineContext> {
	const installed = await ensureN8n(name, progress);
	const emulator = await startEmulator();
	const session = await N8nSession.open(installed, { name: 'e2e', log: progress });
	progress(
		`n8n ${installed.line.n8nVersion} on Node ${installed.node.version}, user folder ${session.userFolder}, portal ${emulator.baseUrl}`,
	);
	return {
		line: LINES[name],
		session,
		emulator,
		close: async () => {
			await emulator.close();
			if (process.env.N8N_E2E_KEEP !== '1') session.remove();
		},
	};
}

export interface ScriptResult {
	code: number;
	output: string;
}

/** Runs one of the repo's scripts (as `npm run` would, with tsx) and collects its output. */
export function runRepoScript(
	script: string,
	args: string[] = [],
	timeoutMs = 300_000,
): Promise<ScriptResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(
			process.execPath,
			[
				path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
				path.join(REPO_ROOT, script),
				...args,
			],
			{
				cwd: REPO_ROOT,
				env: process.env,
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		let output = '';
		const collect = (chunk: Buffer) => (output += chunk.toString('utf8'));
		child.stdout.on('data', collect);
		child.stderr.on('data', collect);
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({ code: code ?? 1, output });
		});
	});
}

/** A new folder under <cache>/runs for one test; removed by removeScratch (kept with N8N_E2E_KEEP=1). */
export function scratchFolder(name: string): string {
	const folder = path.join(cacheRoot(), 'runs', `${name}-${Date.now()}-${process.pid}`);
	fs.mkdirSync(folder, { recursive: true });
	return folder;
}

export function removeScratch(folder: string): void {
	if (process.env.N8N_E2E_KEEP !== '1') fs.rmSync(folder, { recursive: true, force: true });
}

/** Polls until check() gives a value (not undefined) or the time is up. */
export async function waitFor<T>(
	what: string,
	check: () => Promise<T | undefined>,
	timeoutMs = 60_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/**
 * Breaks the session's installed copy of the package the way a packaging mistake would: the webhook
 * credential's file no longer exports a class named after the file.
 */
export function breakInstalledPackage(session: N8nSession): void {
	const file = path.join(
		session.userFolder,
		'.n8n',
		'nodes',
		'node_modules',
		PACKAGE_NAME,
		'dist',
		'credentials',
		'Bitrix24WebhookApi.credentials.js',
	);
	const source = fs.readFileSync(file, 'utf8');
	const broken = source.replace(/Bitrix24WebhookApi\b/g, 'RenamedWebhookApi');
	if (broken === source) throw new Error(`Nothing to rename in ${file}`);
	fs.writeFileSync(file, broken);
}
