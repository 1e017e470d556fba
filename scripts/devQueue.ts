/**
 * `npm run dev:queue`: what `npm run dev` shows, in n8n's queue mode: PostgreSQL and Redis (Debian's packages,
 * installed when missing), n8n 2.41.1's main instance with the editor, and `n8n worker` processes that run the
 * executions, all with this package installed; the emulated portal, the example workflow and its credential.
 * Ctrl+C stops every process. The run folder (database included) is removed at the end unless --keep.
 *
 *   npx tsx scripts/devQueue.ts [--workers 2] [--port 5678] [--emulator-port 8089] [--keep] [--verbose]
 */
import { startEmulator } from '../tools/emulator';
import { startQueue } from '../tools/n8n/queue';
import { exampleWebhookCredential, loadExample, webhookCredential } from '../tools/n8n/workflows';
import { runWhenStarted } from '../tools/runWhenStarted';
import { DEV_OWNER, setUpOwner } from './dev';

interface QueueDevOptions {
	workers: number;
	port: number;
	emulatorPort: number;
	keep: boolean;
	verbose: boolean;
}

function parseArgs(argv: readonly string[]): QueueDevOptions {
	const options: QueueDevOptions = {
		workers: 2,
		port: 5678,
		emulatorPort: 8089,
		keep: false,
		verbose: false,
	};
	const numbers: Record<string, 'workers' | 'port' | 'emulatorPort'> = {
		'--workers': 'workers',
		'--port': 'port',
		'--emulator-port': 'emulatorPort',
	};
	for (let i = 0; i < argv.length; i++) {
		const [flag = '', inline] = (argv[i] ?? '').split('=', 2);
		const numeric = numbers[flag];
		if (numeric) options[numeric] = Number(inline ?? argv[++i]);
		else if (flag === '--keep') options.keep = true;
		else if (flag === '--verbose') options.verbose = true;
		else
			throw new Error(
				`Unknown argument ${argv[i]} (use --workers, --port, --emulator-port, --keep, --verbose)`,
			);
	}
	for (const key of Object.values(numbers))
		if (!Number.isInteger(options[key]) || options[key] < 1)
			throw new Error(`--${key} must be a positive whole number`);
	return options;
}

export async function main(argv: readonly string[] = []): Promise<void> {
	const options = parseArgs(argv);
	const emulator = await startEmulator({ port: options.emulatorPort });
	let stopping: Promise<void> | undefined;
	let stopped: () => void = () => undefined;
	try {
		console.log(`Emulated Bitrix24 portal: ${emulator.baseUrl}`);
		const example = loadExample();
		const queue = await startQueue(
			{
				workers: options.workers,
				port: options.port,
				name: 'dev-queue',
				onOutput: options.verbose ? console.log : undefined,
			},
			async (session) => {
				await session.importCredentials([
					webhookCredential(exampleWebhookCredential(), emulator.webhookUrl),
				]);
				await session.importWorkflows([example as unknown as Record<string, unknown>]);
			},
		);
		const stop = (why: string) =>
			(stopping ??= (async () => {
				console.log(
					`\n${why}: stopping n8n (main and workers), Redis, PostgreSQL and the emulator`,
				);
				await queue.stop({ keep: options.keep });
				await emulator.close();
				stopped();
			})());
		process.once('SIGINT', () => void stop('SIGINT'));
		process.once('SIGTERM', () => void stop('SIGTERM'));
		for (const process of [queue.main, ...queue.workers.map((worker) => worker.service)])
			void process.exited.then(() => void stop(`${process.name} exited`));
		await setUpOwner(queue.baseUrl);
		console.log(
			[
				'',
				`n8n editor (queue mode, ${queue.workers.length} workers): ${queue.baseUrl}`,
				`  sign in as ${DEV_OWNER.email} / ${DEV_OWNER.password}`,
				`  workflow: ${queue.baseUrl}/workflow/${example.id}  ("${example.name}"); its runs go to the workers`,
				`  run folder: ${queue.session.userFolder}${options.keep ? ' (kept)' : ' (removed at the end)'}`,
				'Press Ctrl+C to stop.',
			].join('\n'),
		);
		await new Promise<void>((resolve) => (stopped = resolve));
		await stopping;
	} catch (error) {
		await emulator.close();
		throw error;
	}
}

runWhenStarted(module, main);
