/**
 * Drives a real n8n from its CLI, headlessly: a fresh user folder per session with this package linked in
 * the way n8n finds installed community packages, credentials and workflows imported from JSON, workflows
 * executed with `n8n execute --rawOutput` and the execution read back from n8n's JSON log records.
 * Every command fails on n8n's "Failed to load package" line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { cleanNpmEnv, type InstalledN8n } from './install';
import { REPO_ROOT, cacheRoot } from './lines';

export const PACKAGE_NAME: string = (
	JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string }
).name;

export type JsonObject = Record<string, unknown>;

export interface ItemJson {
	json: JsonObject;
	pairedItem?: unknown;
}

/** What `n8n execute --rawOutput` returns: a run (IRun) with its data. */
export interface ExecutionResult {
	/** n8n's exit code: 1 when the execution failed. */
	exitCode: number;
	/** The raw execution record. */
	run: {
		status?: string;
		finished?: boolean;
		data: {
			resultData: {
				runData: Record<string, TaskData[]>;
				error?: { message?: string; description?: string; name?: string };
			};
		};
	};
	seconds: number;
}

/** One run of a node in n8n's execution record (n8n's ITaskData, the parts read here). */
export interface TaskData {
	executionStatus?: string;
	error?: { message?: string; description?: string };
	data?: { main?: Array<ItemJson[] | null> };
}

export interface EditorProcess {
	child: ChildProcess;
	/** Resolves with n8n's exit code. */
	exited: Promise<number | null>;
	/** Ends n8n and its task runner (the whole process group). */
	stop(): Promise<void>;
}

export interface CommandResult {
	code: number;
	stdout: string;
	stderr: string;
	/** stdout/stderr lines that parsed as JSON log records. */
	records: JsonObject[];
	seconds: number;
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

const LOAD_FAILURE = /Failed to load package/;

let packedTarball: string | undefined;

/** `npm pack` of the repo (what npm publish would upload), once per process. */
export function packRepo(): string {
	if (packedTarball && fs.existsSync(packedTarball)) return packedTarball;
	if (!fs.existsSync(path.join(REPO_ROOT, 'dist')))
		throw new Error('dist/ is missing: run npm run build first');
	const destination = path.join(cacheRoot(), 'packages');
	fs.mkdirSync(destination, { recursive: true });
	const result = spawnSync(
		'npm',
		['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
		{
			cwd: REPO_ROOT,
			env: cleanNpmEnv(),
			encoding: 'utf8',
		},
	);
	if (result.status !== 0) throw new Error(`npm pack failed:\n${result.stderr}`);
	const [packed] = JSON.parse(result.stdout.slice(result.stdout.indexOf('['))) as Array<{
		filename: string;
	}>;
	if (!packed) throw new Error(`npm pack printed no file:\n${result.stdout}`);
	packedTarball = path.join(destination, packed.filename);
	return packedTarball;
}

/**
 * Installs the package into `<userFolder>/.n8n/nodes/node_modules/<name>` as n8n's own community-package
 * installer does (CommunityPackagesService.downloadPackage): the `npm pack` tarball extracted there, with
 * dev/peer/optional dependencies removed from its package.json. n8n scans that folder at every start, so
 * node types are `<package name>.<node name>`, as for a user who installed it from npm.
 * A user's copy resolves `n8n-workflow` to n8n's own copy (n8n puts its module paths on NODE_PATH); here
 * the run folder may sit inside this repo, whose node_modules has a dev copy of n8n-workflow that Node
 * would find first, so the package gets a node_modules/n8n-workflow link to n8n's copy: the same module
 * instance users get (`instanceof NodeApiError` and friends hold).
 */
export function installPackage(
	installed: InstalledN8n,
	userFolder: string,
	tarball: string = packRepo(),
): string {
	const target = path.join(userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME);
	fs.rmSync(target, { recursive: true, force: true });
	fs.mkdirSync(target, { recursive: true });
	const untar = spawnSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], {
		encoding: 'utf8',
	});
	if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
	const manifestFile = path.join(target, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(
		fs.readFileSync(manifestFile, 'utf8'),
	) as JsonObject;
	void devDependencies;
	void peerDependencies;
	void optionalDependencies;
	fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
	fs.mkdirSync(path.join(target, 'node_modules'), { recursive: true });
	fs.symlinkSync(
		path.join(installed.folder, 'node_modules', 'n8n-workflow'),
		path.join(target, 'node_modules', 'n8n-workflow'),
		'dir',
	);
	return target;
}

function parseRecords(text: string): JsonObject[] {
	const records: JsonObject[] = [];
	for (const line of text.split('\n')) {
		const trimmed = line.trim();
		if (!trimmed.startsWith('{')) continue;
		try {
			const value: unknown = JSON.parse(trimmed);
			if (value && typeof value === 'object' && !Array.isArray(value))
				records.push(value as JsonObject);
		} catch {
			// not a record (e.g. a pretty-printed fragment)
		}
	}
	return records;
}

/** The execution in the records: the record whose message parses to an object with data.resultData. */
export function findExecution(records: JsonObject[]): ExecutionResult['run'] | undefined {
	for (const record of records) {
		const candidates: unknown[] = [record];
		if (typeof record.message === 'string') {
			try {
				candidates.push(JSON.parse(record.message));
			} catch {
				continue;
			}
		}
		for (const candidate of candidates) {
			const data = (candidate as { data?: { resultData?: unknown } } | null)?.data;
			if (data && typeof data === 'object' && data.resultData)
				return candidate as ExecutionResult['run'];
		}
	}
	return undefined;
}

export interface SessionOptions {
	/** A short name for the run folder, e.g. "e2e" or "demo". */
	name: string;
	/** A fixed user folder to reuse (npm run dev); default: a fresh one under <cache>/runs. */
	userFolder?: string;
	/** Prints each command and how long it took. */
	log?: (line: string) => void;
	/** Another build of the package to install (an `npm pack` tarball); default: this repo's. */
	tarball?: string;
	/** n8n settings for every command of the session, after the line's (e.g. `N8N_EXPRESSION_ENGINE`). */
	env?: Record<string, string>;
}

/** One n8n user folder (database, encryption key, linked package) and the commands to drive it. */
export class N8nSession {
	readonly userFolder: string;

	readonly env: NodeJS.ProcessEnv;

	private readonly log: (line: string) => void;

	private constructor(
		readonly installed: InstalledN8n,
		userFolder: string,
		brokerPort: number,
		log: (line: string) => void,
		settings: Record<string, string> = {},
	) {
		this.userFolder = userFolder;
		this.log = log;
		const inherited: NodeJS.ProcessEnv = {};
		for (const [key, value] of Object.entries(process.env)) {
			// Nothing from an outer `npm run` or an outer n8n setting may leak into the session.
			if (/^(npm_|N8N_|DB_|EXECUTIONS_|QUEUE_|GENERIC_TIMEZONE$)/i.test(key)) continue;
			inherited[key] = value;
		}
		this.env = {
			...inherited,
			PATH: `${path.dirname(installed.node.bin)}${path.delimiter}${process.env.PATH ?? ''}`,
			N8N_USER_FOLDER: userFolder,
			N8N_ENCRYPTION_KEY: 'e2e-bitrix24-open-channels-not-a-secret',
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			N8N_LOG_FORMAT: 'json',
			N8N_LOG_LEVEL: 'info',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
			N8N_SECURE_COOKIE: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			DB_SQLITE_POOL_SIZE: '1',
			NODE_ENV: 'production',
			...installed.line.env,
			...settings,
		};
	}

	/**
	 * A session on a fresh (or the given) user folder, with this package installed the way n8n installs a
	 * community package (see installPackage).
	 */
	static async open(installed: InstalledN8n, options: SessionOptions): Promise<N8nSession> {
		const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
		const userFolder =
			options.userFolder ??
			path.join(
				cacheRoot(),
				'runs',
				`${options.name}-${installed.line.name}-${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`,
			);
		installPackage(installed, userFolder, options.tarball);
		return new N8nSession(
			installed,
			userFolder,
			await freePort(),
			options.log ?? (() => undefined),
			options.env,
		);
	}

	/** Runs `n8n <args>`; rejects on a package load failure, and on a non-zero exit unless allowFailure. */
	async command(
		args: string[],
		options: { allowFailure?: boolean; timeoutMs?: number; label?: string } = {},
	): Promise<CommandResult> {
		const started = Date.now();
		const { node, n8nScript } = this.installed;
		const child = spawn(node.bin, [n8nScript, ...args], {
			cwd: this.userFolder,
			env: this.env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
		const timeoutMs = options.timeoutMs ?? 180_000;
		const code = await new Promise<number>((resolve, reject) => {
			const timer = setTimeout(() => {
				child.kill('SIGKILL');
				reject(
					new Error(
						`n8n ${args[0]} did not finish in ${timeoutMs / 1000} s\n${tail(stdout + stderr)}`,
					),
				);
			}, timeoutMs);
			child.on('error', (error) => {
				clearTimeout(timer);
				reject(error);
			});
			child.on('close', (exitCode) => {
				clearTimeout(timer);
				resolve(exitCode ?? 1);
			});
		});
		const seconds = (Date.now() - started) / 1000;
		const label = options.label ?? `n8n ${args.join(' ')}`;
		this.log(`  ${label}: exit ${code}, ${seconds.toFixed(1)} s`);
		const failedLoad = (stdout + stderr).split('\n').find((line) => LOAD_FAILURE.test(line));
		if (failedLoad) throw new Error(`n8n could not load the package: ${failedLoad.slice(0, 2000)}`);
		if (code !== 0 && !options.allowFailure) {
			throw new Error(`${label} failed with exit code ${code}\n${tail(stdout + stderr)}`);
		}
		return { code, stdout, stderr, records: parseRecords(`${stdout}\n${stderr}`), seconds };
	}

	private writeInput(name: string, value: unknown): string {
		const file = path.join(this.userFolder, 'inputs', name);
		fs.mkdirSync(path.dirname(file), { recursive: true });
		fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
		return file;
	}

	/** `n8n import:credentials`: plain `data` objects are encrypted with the session's key on import. */
	async importCredentials(credentials: JsonObject[]): Promise<void> {
		const file = this.writeInput(`credentials-${Date.now()}.json`, credentials);
		await this.command(['import:credentials', `--input=${file}`], {
			label: `import ${credentials.length} credential(s)`,
		});
	}

	/** `n8n import:workflow` for each workflow (one boot: a folder with --separate). */
	async importWorkflows(workflows: JsonObject[]): Promise<void> {
		const folder = path.join(this.userFolder, 'inputs', `workflows-${Date.now()}`);
		fs.mkdirSync(folder, { recursive: true });
		for (const workflow of workflows) {
			fs.writeFileSync(
				path.join(folder, `${String(workflow.id)}.json`),
				`${JSON.stringify(workflow, null, 2)}\n`,
			);
		}
		await this.command(['import:workflow', '--separate', `--input=${folder}`], {
			label: `import ${workflows.length} workflow(s)`,
		});
	}

	/** `n8n execute --id --rawOutput`: the execution, whether it succeeded or failed. */
	async execute(
		workflowId: string,
		options: { timeoutMs?: number } = {},
	): Promise<ExecutionResult> {
		const result = await this.command(['execute', `--id=${workflowId}`, '--rawOutput'], {
			allowFailure: true,
			timeoutMs: options.timeoutMs,
			label: `execute ${workflowId}`,
		});
		const run = findExecution(result.records);
		if (!run)
			throw new Error(
				`n8n execute printed no execution (exit ${result.code})\n${tail(result.stdout + result.stderr)}`,
			);
		return { exitCode: result.code, run, seconds: result.seconds };
	}

	/** `n8n export:credentials --all --decrypted`: the stored credentials with their data in clear. */
	async exportCredentials(): Promise<
		Array<{ id: string; name: string; type: string; data: JsonObject }>
	> {
		const file = path.join(this.userFolder, 'inputs', `export-${Date.now()}.json`);
		// n8n does not create the output folder (a session that has imported nothing yet has none).
		fs.mkdirSync(path.dirname(file), { recursive: true });
		await this.command(['export:credentials', '--all', '--decrypted', `--output=${file}`], {
			label: 'export credentials',
		});
		return JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{
			id: string;
			name: string;
			type: string;
			data: JsonObject;
		}>;
	}

	/**
	 * Starts the editor (`n8n start`) on 127.0.0.1:port and resolves once it answers /healthz. n8n runs in
	 * its own process group (it starts a task runner child), which stop() ends: SIGTERM, then SIGKILL.
	 */
	async startEditor(
		port: number,
		options: { onOutput?: (line: string) => void } = {},
	): Promise<EditorProcess> {
		const { node, n8nScript } = this.installed;
		const child = spawn(node.bin, [n8nScript, 'start'], {
			cwd: this.userFolder,
			env: {
				...this.env,
				N8N_PORT: String(port),
				N8N_LOG_FORMAT: 'text',
				N8N_EDITOR_BASE_URL: `http://127.0.0.1:${port}/`,
			},
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		const exited = new Promise<number | null>((resolve) =>
			child.once('exit', (code) => resolve(code)),
		);
		const signalGroup = (signal: NodeJS.Signals) => {
			try {
				if (child.pid) process.kill(-child.pid, signal);
			} catch {
				// already gone
			}
		};
		const stop = async () => {
			signalGroup('SIGTERM');
			const done = await Promise.race([
				exited.then(() => true),
				new Promise((resolve) => setTimeout(() => resolve(false), 20_000).unref()),
			]);
			// The group may still hold the task runner even when n8n itself has exited.
			signalGroup('SIGKILL');
			if (!done) await exited;
		};
		const editor: EditorProcess = { child, exited, stop };
		let output = '';
		const onData = (chunk: Buffer) => {
			const text = chunk.toString('utf8');
			output += text;
			for (const line of text.split('\n')) if (line.trim() !== '') options.onOutput?.(line);
		};
		child.stdout?.on('data', onData);
		child.stderr?.on('data', onData);
		const deadline = Date.now() + 120_000;
		for (;;) {
			if (LOAD_FAILURE.test(output)) {
				await stop();
				throw new Error(`n8n could not load the package:\n${tail(output)}`);
			}
			if (child.exitCode !== null) {
				await stop();
				throw new Error(`n8n start exited with ${child.exitCode}\n${tail(output)}`);
			}
			try {
				const response = await fetch(`http://127.0.0.1:${port}/healthz`);
				if (response.ok) return editor;
			} catch {
				// not up yet
			}
			if (Date.now() > deadline) {
				await stop();
				throw new Error(`n8n did not answer on port ${port} within 120 s\n${tail(output)}`);
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}

	/** Deletes the user folder (not for a fixed one passed in by the caller). */
	remove(): void {
		fs.rmSync(this.userFolder, { recursive: true, force: true });
	}
}

function tail(text: string, lines = 30): string {
	return text.split('\n').slice(-lines).join('\n');
}

/** Parses execution data as n8n's REST API returns it (flatted), with the installed n8n's own `flatted`. */
export function parseExecutionData(
	installed: InstalledN8n,
	text: string,
): ExecutionResult['run']['data'] {
	const flatted = require(path.join(installed.folder, 'node_modules', 'flatted')) as {
		parse(text: string): unknown;
	};
	return flatted.parse(text) as ExecutionResult['run']['data'];
}

/** Items on a node's output `index` (0 = main/success, 1 = error output) in the first run of that node. */
export function outputItems(result: ExecutionResult, nodeName: string, index = 0): JsonObject[] {
	const runs = result.run.data.resultData.runData[nodeName];
	return (runs?.[0]?.data?.main?.[index] ?? []).map((item) => item.json);
}
