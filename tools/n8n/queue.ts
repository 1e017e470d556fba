/**
 * n8n in queue mode on this machine, from the repo's own files: PostgreSQL and Redis from Debian's packages
 * (installed with apt-get when missing), a throwaway database cluster and Redis on free ports under the run
 * folder, then n8n 2.41.1's main instance (`n8n start`: editor, webhooks, the queue's producer) and N
 * `n8n worker` processes that run the executions. Every process has the same encryption key, database,
 * Redis and user folder, whose `.n8n/nodes` holds this package installed as n8n installs community packages
 * (runner.ts installPackage): the "same persisted folder" set-up the README recommends.
 *
 * Each process runs in its own process group; stop() ends them all (also after a failed start), and
 * `npm run dev:queue` (scripts/devQueue.ts) stops them on Ctrl+C.
 * Facts: ../../../shared/docs/real-n8n.md, "Queue mode on these machines".
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ensureN8n, type InstalledN8n, type Log } from './install';
import { FIRST_CAMPAIGN_CHAT, LEADS, USERS } from '../emulator';
import { N8nSession, freePort, type JsonObject } from './runner';
import { NODES, exampleVariant, type CredentialRef, type Workflow } from './workflows';

/** Debian packages the set-up needs, by the program that tells whether each is there. */
const DEBIAN_PACKAGES: ReadonlyArray<{ program: () => string | undefined; name: string }> = [
	{ program: () => onPath('redis-server'), name: 'redis-server' },
	{ program: () => postgresBin('initdb'), name: 'postgresql' },
];

function onPath(program: string): string | undefined {
	const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
	return found.status === 0 ? found.stdout.trim() : undefined;
}

/** A PostgreSQL server program from Debian's layout (/usr/lib/postgresql/<major>/bin), newest major first. */
function postgresBin(program: string): string | undefined {
	const root = '/usr/lib/postgresql';
	const majors = fs.existsSync(root)
		? fs
				.readdirSync(root)
				.filter((name) => /^\d+$/.test(name))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	for (const major of majors) {
		const file = path.join(root, major, 'bin', program);
		if (fs.existsSync(file)) return file;
	}
	return undefined;
}

/** Installs redis-server and postgresql with apt-get when missing (root on Debian, as in CI). */
export function ensureQueueServices(log: Log): void {
	const missing = DEBIAN_PACKAGES.filter(({ program }) => program() === undefined).map(
		({ name }) => name,
	);
	if (missing.length === 0) return;
	if (process.getuid?.() !== 0)
		throw new Error(
			`Queue mode needs ${missing.join(' and ')}: apt-get install -y ${missing.join(' ')} (as root)`,
		);
	log(`Installing ${missing.join(', ')} from Debian's packages (apt-get, once)`);
	const apt = (args: string[]) => {
		const result = spawnSync('apt-get', args, {
			encoding: 'utf8',
			env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
		});
		if (result.status !== 0)
			throw new Error(`apt-get ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
	};
	apt(['update']);
	apt(['install', '-y', '--no-install-recommends', ...missing]);
}

/**
 * A detached watchdog that SIGKILLs the process groups listed in `groupsFile` (one ID a line) once this
 * process is gone, however it ended (kill -9 included), so no database, queue or n8n outlives its run.
 */
function watchOver(groupsFile: string): void {
	const script =
		`while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
		`[ -f "$0" ] && for group in $(cat "$0"); do kill -KILL -- "-$group" 2>/dev/null; done`;
	spawn('sh', ['-c', script, groupsFile], { detached: true, stdio: 'ignore' }).unref();
}

/** A background process in its own group, with its output kept (last lines) and a way to end the group. */
export interface ServiceProcess {
	name: string;
	child: ChildProcess;
	exited: Promise<number | null>;
	/** Everything it printed so far. */
	output(): string;
	/** SIGTERM to the group, SIGKILL after `graceMs` (and always, for children left behind). */
	stop(graceMs?: number): Promise<void>;
	/** SIGKILL to the group at once: a crash. */
	kill(): void;
}

function startService(
	name: string,
	command: string,
	args: string[],
	options: { cwd: string; env: NodeJS.ProcessEnv; onOutput?: (line: string) => void },
): ServiceProcess {
	const child = spawn(command, args, {
		cwd: options.cwd,
		env: options.env,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	let output = '';
	const onData = (chunk: Buffer) => {
		const text = chunk.toString('utf8');
		// Keep the tail only: a worker logs a line per execution step.
		output = (output + text).slice(-200_000);
		for (const line of text.split('\n'))
			if (line.trim() !== '') options.onOutput?.(`${name}: ${line}`);
	};
	child.stdout?.on('data', onData);
	child.stderr?.on('data', onData);
	const exited = new Promise<number | null>((resolve) => {
		child.once('exit', (code) => resolve(code));
		child.once('error', () => resolve(null));
	});
	const signalGroup = (signal: NodeJS.Signals) => {
		try {
			if (child.pid) process.kill(-child.pid, signal);
		} catch {
			// already gone
		}
	};
	return {
		name,
		child,
		exited,
		output: () => output,
		kill: () => signalGroup('SIGKILL'),
		stop: async (graceMs = 20_000) => {
			signalGroup('SIGTERM');
			await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
			signalGroup('SIGKILL');
			await exited;
		},
	};
}

const tail = (text: string, lines = 30) => text.split('\n').slice(-lines).join('\n');

/** Polls `url` until it answers 2xx; fails early when the process exits. */
async function waitHealthy(service: ServiceProcess, url: string, timeoutMs = 120_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (service.child.exitCode !== null || service.child.signalCode !== null)
			throw new Error(`${service.name} exited while starting\n${tail(service.output())}`);
		if (/Failed to load package/.test(service.output()))
			throw new Error(`${service.name} could not load the package\n${tail(service.output())}`);
		try {
			if ((await fetch(url)).ok) return;
		} catch {
			// not up yet
		}
		if (Date.now() > deadline)
			throw new Error(`${service.name} did not answer ${url} in time\n${tail(service.output())}`);
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/** Runs a PostgreSQL program as the `postgres` user when we are root (PostgreSQL refuses to run as root). */
function asPostgres(program: string, args: string[]): [string, string[]] {
	return process.getuid?.() === 0
		? ['runuser', ['-u', 'postgres', '--', program, ...args]]
		: [program, args];
}

interface Postgres {
	port: number;
	service: ServiceProcess;
}

/** A throwaway cluster in `folder` on a free port, trusting local connections (127.0.0.1 only). */
async function startPostgres(folder: string, log: Log): Promise<Postgres> {
	const initdb = postgresBin('initdb');
	const server = postgresBin('postgres');
	if (!initdb || !server)
		throw new Error('PostgreSQL is not installed (/usr/lib/postgresql/*/bin)');
	const dataDir = path.join(folder, 'postgres');
	fs.mkdirSync(dataDir, { recursive: true });
	if (process.getuid?.() === 0) {
		// The postgres user must own its data folder and reach it.
		spawnSync('chown', ['-R', 'postgres:postgres', dataDir]);
		for (let dir = folder; dir !== path.dirname(dir); dir = path.dirname(dir)) {
			const mode = fs.statSync(dir).mode;
			if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
		}
	}
	const [initCommand, initArgs] = asPostgres(initdb, [
		'-D',
		dataDir,
		'-U',
		'n8n',
		'--auth=trust',
		'-E',
		'UTF8',
		'--no-sync',
	]);
	const init = spawnSync(initCommand, initArgs, { encoding: 'utf8' });
	if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}\n${init.stderr}`);
	const port = await freePort();
	const [command, args] = asPostgres(server, [
		'-D',
		dataDir,
		'-p',
		String(port),
		'-k',
		dataDir,
		'-c',
		'listen_addresses=127.0.0.1',
		'-c',
		'fsync=off',
		'-c',
		'max_connections=200',
	]);
	const service = startService('postgres', command, args, { cwd: folder, env: process.env });
	const deadline = Date.now() + 60_000;
	while (!/ready to accept connections/.test(service.output())) {
		if (service.child.exitCode !== null || Date.now() > deadline) {
			await service.stop(1000);
			throw new Error(`PostgreSQL did not start\n${tail(service.output())}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	log(`  PostgreSQL on 127.0.0.1:${port} (${dataDir})`);
	return { port, service };
}

async function startRedis(
	folder: string,
	log: Log,
): Promise<{ port: number; service: ServiceProcess }> {
	const port = await freePort();
	const dir = path.join(folder, 'redis');
	fs.mkdirSync(dir, { recursive: true });
	const service = startService(
		'redis',
		onPath('redis-server') ?? 'redis-server',
		[
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--save',
			'',
			'--appendonly',
			'no',
			'--dir',
			dir,
		],
		{ cwd: dir, env: process.env },
	);
	const deadline = Date.now() + 30_000;
	while (!/Ready to accept connections/i.test(service.output())) {
		if (service.child.exitCode !== null || Date.now() > deadline) {
			await service.stop(1000);
			throw new Error(`Redis did not start\n${tail(service.output())}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	log(`  Redis on 127.0.0.1:${port}`);
	return { port, service };
}

export interface QueueOptions {
	/** `n8n worker` processes; default 2. */
	workers?: number;
	/** Executions each worker runs at once (`--concurrency`); default n8n's 10. */
	concurrency?: number;
	/** The main instance's port; default a free one. */
	port?: number;
	/** A short name for the run folder under <cache>/runs. */
	name?: string;
	log?: Log;
	/** More environment for every n8n process (e.g. N8N_EXECUTIONS_QUEUE_RECOVERY_INTERVAL). */
	env?: Record<string, string>;
	/** Another build of the package (an `npm pack` tarball); default: this repo's. */
	tarball?: string;
	/** Every line the processes print, prefixed with the process name. */
	onOutput?: (line: string) => void;
}

export interface QueueWorker {
	index: number;
	service: ServiceProcess;
	/** Its readiness check: http://127.0.0.1:<port>/healthz/readiness */
	healthUrl: string;
}

/** A running queue-mode n8n: the main instance, its workers, PostgreSQL and Redis. */
export interface QueueCluster {
	installed: InstalledN8n;
	/** The shared user folder and the commands (import, publish...) against the shared database. */
	session: N8nSession;
	/** http://127.0.0.1:<port> of the main instance (editor, REST API, webhooks). */
	baseUrl: string;
	main: ServiceProcess;
	workers: QueueWorker[];
	/** SQL against n8n's database (psql, one value per line, fields separated by `|`). */
	sql(query: string): string[];
	/** Which worker started each execution, from the workers' "Worker started execution <id>" lines. */
	executionsByWorker(): Map<string, number>;
	/** Ends every process (workers, main, Redis, PostgreSQL), then removes the run folder unless kept. */
	stop(options?: { keep?: boolean }): Promise<void>;
}

const EXECUTION_STARTED = /Worker started execution (\d+)/g;

/**
 * Starts PostgreSQL, Redis, n8n's main instance and the workers. `prepare` runs n8n CLI commands against the
 * fresh database before the main instance starts (imports; `n8n publish:workflow` to activate webhooks).
 */
export async function startQueue(
	options: QueueOptions = {},
	prepare: (session: N8nSession) => Promise<void> = async () => undefined,
): Promise<QueueCluster> {
	const log = options.log ?? console.log;
	ensureQueueServices(log);
	const installed = await ensureN8n('2.x', log);
	const session = await N8nSession.open(installed, {
		name: options.name ?? 'queue',
		log,
		tarball: options.tarball,
	});
	const services: ServiceProcess[] = [];
	const groups = path.join(session.userFolder, 'process-groups');
	watchOver(groups);
	const started = (service: ServiceProcess) => {
		services.push(service);
		fs.appendFileSync(groups, `${service.child.pid}\n`);
		return service;
	};
	const stopAll = async () => {
		// n8n's processes first (they hold connections to both), side by side, then Redis and PostgreSQL.
		const n8n = services.filter(
			(service) => service.name !== 'redis' && service.name !== 'postgres',
		);
		await Promise.all(n8n.map(async (service) => await service.stop(10_000)));
		await Promise.all(
			services
				.filter((service) => !n8n.includes(service))
				.map(async (service) => await service.stop()),
		);
	};
	try {
		const postgres = await startPostgres(session.userFolder, log);
		started(postgres.service);
		const redis = await startRedis(session.userFolder, log);
		started(redis.service);
		Object.assign(session.env, {
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(postgres.port),
			DB_POSTGRESDB_DATABASE: 'postgres',
			DB_POSTGRESDB_USER: 'n8n',
			DB_POSTGRESDB_PASSWORD: 'n8n',
			// Manual runs from the editor go to the workers too (n8n 3.x's only behaviour).
			OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
			N8N_LOG_FORMAT: 'text',
			...options.env,
		});
		await prepare(session);
		const { node, n8nScript } = installed;
		const port = options.port ?? (await freePort());
		const main = startService('main', node.bin, [n8nScript, 'start'], {
			cwd: session.userFolder,
			env: {
				...session.env,
				N8N_PORT: String(port),
				N8N_EDITOR_BASE_URL: `http://127.0.0.1:${port}/`,
				WEBHOOK_URL: `http://127.0.0.1:${port}/`,
			},
			onOutput: options.onOutput,
		});
		started(main);
		const baseUrl = `http://127.0.0.1:${port}`;
		await waitHealthy(main, `${baseUrl}/healthz/readiness`);
		const workers: QueueWorker[] = [];
		for (let index = 1; index <= (options.workers ?? 2); index++) {
			const healthPort = await freePort();
			const args = [n8nScript, 'worker'];
			if (options.concurrency) args.push(`--concurrency=${options.concurrency}`);
			const service = startService(`worker ${index}`, node.bin, args, {
				cwd: session.userFolder,
				env: {
					...session.env,
					N8N_RUNNERS_BROKER_PORT: String(await freePort()),
					QUEUE_HEALTH_CHECK_ACTIVE: 'true',
					QUEUE_HEALTH_CHECK_PORT: String(healthPort),
				},
				onOutput: options.onOutput,
			});
			started(service);
			workers.push({
				index,
				service,
				healthUrl: `http://127.0.0.1:${healthPort}/healthz/readiness`,
			});
		}
		// Workers boot side by side; each is ready once it reaches the database and Redis.
		await Promise.all(
			workers.map(async (worker) => await waitHealthy(worker.service, worker.healthUrl)),
		);
		log(
			`  n8n ${installed.line.n8nVersion} in queue mode: main ${baseUrl} (pid ${main.child.pid}), ` +
				`${workers.length} worker(s) (pids ${workers.map((w) => w.service.child.pid).join(', ')})`,
		);
		const psql = onPath('psql') ?? 'psql';
		return {
			installed,
			session,
			baseUrl,
			main,
			workers,
			sql: (query) => {
				const result = spawnSync(
					psql,
					[
						'-h',
						'127.0.0.1',
						'-p',
						String(postgres.port),
						'-U',
						'n8n',
						'-d',
						'postgres',
						'-AtX',
						'-c',
						query,
					],
					{ encoding: 'utf8', maxBuffer: 512 * 2 ** 20 },
				);
				if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
				return result.stdout.split('\n').filter((line) => line !== '');
			},
			executionsByWorker: () => {
				const byWorker = new Map<string, number>();
				for (const worker of workers)
					for (const match of worker.service.output().matchAll(EXECUTION_STARTED))
						byWorker.set(match[1], worker.index);
				return byWorker;
			},
			stop: async ({ keep = false } = {}) => {
				await stopAll();
				if (!keep) session.remove();
			},
		};
	} catch (error) {
		await stopAll();
		if (process.env.N8N_E2E_KEEP !== '1') session.remove();
		throw error;
	}
}

/** A workflow's trigger replaced by a Webhook node (POST /webhook/<path>, answered at once), same connections. */
export function webhookStarted(
	workflow: Workflow,
	triggerName: string,
	webhookPath: string,
): Workflow {
	const nodes = workflow.nodes.map((node) =>
		node.name === triggerName
			? {
					...node,
					type: 'n8n-nodes-base.webhook',
					typeVersion: 2,
					webhookId: webhookPath,
					parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'onReceived' },
				}
			: node,
	);
	return { ...workflow, nodes, active: true };
}

/** The text of message `index` of the campaign execution `execution` (see campaignWorkflow). */
export const campaignText = (execution: number, index: number): string =>
	`Campaign execution ${execution}: notification #${index + 1}`;

/** How a campaign's node reads each item: five expressions n8n evaluates per item, or Take From Input Fields. */
export type CampaignInput = 'expressions' | 'fields';

/** The Bitrix24 node's parameters per input path (the fields path reads the items' own fields by name). */
const CAMPAIGN_PARAMETERS: Record<CampaignInput, JsonObject> = {
	expressions: {
		crmEntityType: '={{ $json.crmEntityType }}',
		crmEntityId: '={{ $json.crmEntityId }}',
		userId: { __rl: true, mode: 'id', value: '={{ $json.userId }}' },
		chatId: { __rl: true, mode: 'id', value: '={{ $json.chatId }}' },
		message: '={{ $json.message }}',
	},
	fields: { input: 'inputFields' },
};

/**
 * The example workflow started by a webhook (POST /webhook/<path> with `{"execution": k}`): execution k sends
 * `messages` messages from Oleg (27), each to its own campaign chat of lead 1195 (the emulator's
 * addCampaignChats: FIRST_CAMPAIGN_CHAT + k * messages + i), the text campaignText(k, i); the node reads the
 * items through five expressions (default) or Take From Input Fields.
 */
export function campaignWorkflow(setup: {
	id: string;
	path: string;
	credential: CredentialRef;
	messages: number;
	options: JsonObject;
	input?: CampaignInput;
}): Workflow {
	const { messages } = setup;
	const jsCode = `const k = Number($input.first().json.body.execution);
return Array.from({ length: ${messages} }, (_, i) => ({ json: {
  crmEntityType: 'lead',
  crmEntityId: ${LEADS.WEBSITE_INQUIRY},
  userId: ${USERS.OLEG_OPERATOR},
  chatId: ${FIRST_CAMPAIGN_CHAT} + k * ${messages} + i,
  message: 'Campaign execution ' + k + ': notification #' + (i + 1),
} }));`;
	return webhookStarted(
		exampleVariant({
			id: setup.id,
			name: `Bitrix24: campaign of ${messages} per webhook call`,
			jsCode,
			webhook: setup.credential,
			parameters: { ...CAMPAIGN_PARAMETERS[setup.input ?? 'expressions'], options: setup.options },
		}),
		NODES.trigger,
		setup.path,
	);
}

/** Calls the webhook of a campaignWorkflow once per execution, all at once; resolves when n8n took them all. */
export async function startCampaigns(
	baseUrl: string,
	path: string,
	executions: number,
): Promise<void> {
	const answers = await Promise.all(
		Array.from({ length: executions }, async (_, execution) => {
			const response = await fetch(`${baseUrl}/webhook/${path}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ execution }),
			});
			return response.status;
		}),
	);
	if (answers.some((status) => status !== 200))
		throw new Error(`The webhook answered ${answers.join(', ')}`);
}
