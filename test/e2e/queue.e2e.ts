/**
 * End-to-end in n8n's queue mode (2.x only): n8n 2.41.1's main instance and 2 `n8n worker` processes with
 * PostgreSQL and Redis from Debian's packages (installed with apt-get when missing, tools/n8n/queue.ts), the
 * packed package in their shared user folder, the emulated portal in this process.
 * - 3 webhook-started executions at once on one credential, 100 messages each, one request per message, at
 *   burst 50 and 20 per second in the credential and the portal: every message once, none failed.
 * - The Open Channels Trigger (Reliable mode): the main instance registers one bot at activation and alone reads
 *   its events; each customer message starts one execution, run by a worker, with that message as its item.
 * - A worker killed with SIGKILL in the middle of a 400-message execution: n8n does not run the execution again
 *   (its Bull queue allows no stalled job to be retried), so nothing is posted twice and nothing more is
 *   posted; n8n then ends the execution with status "error" (or "crashed"), sooner here than by default (see
 *   the lock settings below).
 */
import { sleep } from 'n8n-workflow';

import {
	addCampaignChats,
	CHATS,
	OPEN_LINES,
	startEmulator,
	type Emulator,
} from '../../tools/emulator';
import {
	campaignText,
	campaignWorkflow,
	startCampaigns,
	startQueue,
	type QueueCluster,
} from '../../tools/n8n/queue';
import { parseExecutionData, type JsonObject } from '../../tools/n8n/runner';
import { TRIGGER_NODE, triggerToNoOp, webhookCredential } from '../../tools/n8n/workflows';
import { linesUnderTest, printTimings, progress, timed, waitFor } from './support/harness';

const BUDGET = { burstLimit: 50, requestsPerSecond: 20 };
const CREDENTIAL = { id: 'b24QueueE2e', name: 'Bitrix24 webhook (queue e2e)' };
/** The trigger's own credential, at Bitrix24's standard 2 requests/s: its reads take a tenth of that when idle. */
const BOT_CREDENTIAL = { id: 'b24QueueBotE2e', name: 'Bitrix24 webhook (queue e2e bot)' };
const BOT_BUDGET = { burstLimit: 50, requestsPerSecond: 2 };
const PER_ITEM = { sendInBatches: false };
const SPREAD = { id: 'e2eQueueSpread', path: 'e2e-queue-spread', messages: 100 };
const KILLED = { id: 'e2eQueueKilled', path: 'e2e-queue-killed', messages: 400 };
const TRIGGER_WORKFLOW = 'e2eQueueTrigger';

/** The Open Channels Trigger (Reliable mode, attached to both open channels) -> No Operation. */
const triggerWorkflow = (credential: typeof CREDENTIAL): JsonObject => ({
	...triggerToNoOp({
		id: TRIGGER_WORKFLOW,
		name: 'e2e: customers write (queue mode)',
		credential,
		parameters: {
			mode: 'reliable',
			events: ['message'],
			botCode: 'n8n_e2e_queue',
			attachTo: {
				channels: [OPEN_LINES.SUPPORT, OPEN_LINES.SALES].map((line) => ({
					line: { __rl: true, mode: 'id', value: String(line) },
				})),
			},
		},
	}),
	active: true,
});

const run = linesUnderTest().includes('2.x') ? describe : describe.skip;

afterAll(() => printTimings());

run('n8n 2.41.1 in queue mode: main, 2 workers, PostgreSQL and Redis', () => {
	let emulator: Emulator;
	let queue: QueueCluster;

	beforeAll(async () => {
		emulator = await startEmulator(BUDGET);
		queue = await timed('queue mode: start PostgreSQL, Redis, n8n main and 2 workers', async () => {
			return await startQueue(
				{
					workers: 2,
					name: 'e2e-queue',
					log: progress,
					env: {
						// A killed worker's job stays active in Bull until its lock runs out (60 s by default, here 30 s,
						// renewed every 5 s) and a worker's check for stalled jobs (every 30 s by default, here 5 s)
						// fails it; the main instance's queue recovery (every 3 hours by default, here 15 s: a number of
						// minutes, fractions allowed) then marks the execution crashed if nothing else ended it. A live
						// worker whose event loop n8n blocks while preparing the items (about 12 s for 400 on a busy
						// machine) still renews its lock in time.
						N8N_EXECUTIONS_QUEUE_RECOVERY_INTERVAL: '0.25',
						QUEUE_WORKER_LOCK_DURATION: '30000',
						QUEUE_WORKER_LOCK_RENEW_TIME: '5000',
						QUEUE_WORKER_STALLED_INTERVAL: '5000',
					},
				},
				async (session) => {
					await session.importCredentials([
						webhookCredential(CREDENTIAL, emulator.webhookUrl, BUDGET),
						webhookCredential(BOT_CREDENTIAL, emulator.webhookUrl, BOT_BUDGET),
					]);
					const workflows = [
						...[SPREAD, KILLED].map(
							(setup) =>
								campaignWorkflow({
									...setup,
									credential: CREDENTIAL,
									options: PER_ITEM,
								}) as unknown as JsonObject,
						),
						triggerWorkflow(BOT_CREDENTIAL),
					];
					await session.importWorkflows(workflows);
					for (const { id } of workflows)
						await session.command(['publish:workflow', `--id=${String(id)}`]);
				},
			);
		});
	});

	afterAll(async () => {
		const groups = queue
			? [queue.main, ...queue.workers.map((worker) => worker.service)].map((s) => s.child.pid)
			: [];
		await queue?.stop({ keep: process.env.N8N_E2E_KEEP === '1' });
		await emulator?.close();
		// No n8n process is left behind.
		for (const pid of groups) expect(() => process.kill(-(pid as number), 0)).toThrow();
	});

	/** Execution ID -> status, of one workflow's executions. */
	const statuses = (workflowId: string) =>
		new Map(
			queue
				.sql(`select id, status from execution_entity where "workflowId" = '${workflowId}'`)
				.map((row) => {
					const [id = '', status = ''] = row.split('|');
					return [id, status];
				}),
		);

	test('the Trigger (Reliable mode): only the main instance reads the bot; each customer message starts one execution, run by a worker', async () => {
		// First in this file: activation ran when the main instance started, and the other tests reset the portal.
		// One bot, in fetch mode, which the main instance's trigger reads (n8n 2.x activates in the background).
		await waitFor('the bot registered by the main instance', async () => {
			const bots = emulator.world.imbot.registered.filter((bot) => bot.code === 'n8n_e2e_queue');
			return bots.length === 1 && bots[0].eventMode === 'fetch' ? true : undefined;
		});
		await waitFor('the bot attached to the support line', async () =>
			emulator.world.imbot.lines.find((l) => l.id === OPEN_LINES.SUPPORT)?.welcomeBotEnable
				? true
				: undefined,
		);
		// One loop reads, not one per process: idle, one read every 5 s at 2 requests/s (three processes would read
		// three times as often); a busy machine only reads less often.
		const reads = () =>
			emulator.requests.filter((r) => r.restMethod === 'imbot.v2.event.get').length;
		const readsBefore = reads();
		await sleep(15_000);
		expect(reads() - readsBefore).toBeLessThanOrEqual(4);
		const writes = [
			[CHATS.LEAD_TELEGRAM_ACTIVE, 'Where is my order?'],
			[CHATS.DEAL_TELEGRAM_ACTIVE, 'Can I pay by card?'],
			[CHATS.CONTACT_WHATSAPP_ACTIVE, 'Hello'],
			[CHATS.LEAD_TELEGRAM_ACTIVE, 'Are you there?'],
			[CHATS.DEAL_TELEGRAM_ACTIVE, 'Thanks'],
			[CHATS.CONTACT_WHATSAPP_ACTIVE, 'Bye'],
		] as const;
		for (const [chatId, text] of writes) emulator.bots.customerWrites(chatId, text);
		await emulator.bots.settled();

		const executions = await timed(
			'queue mode: 6 customer messages through the trigger',
			async () => {
				return await waitFor(
					'6 trigger executions to succeed',
					async () => {
						const rows = queue.sql(
							`select id, status from execution_entity where "workflowId" = 'e2eQueueTrigger'`,
						);
						const done = rows.filter((row) => row.endsWith('|success'));
						return done.length >= writes.length ? rows.map((row) => row.split('|')[0]) : undefined;
					},
					120_000,
				);
			},
		);
		// Each message once, none lost, none twice, none failed.
		expect(executions).toHaveLength(writes.length);
		const emitted = executions.flatMap((id) => {
			const [data = ''] = queue.sql(`select data from execution_data where "executionId" = ${id}`);
			const run = parseExecutionData(queue.installed, data);
			return (run.resultData.runData[TRIGGER_NODE]?.[0]?.data?.main?.[0] ?? []).map(
				(item) => `${String(item.json.chatId)} ${String(item.json.text)}`,
			);
		});
		expect(emitted.sort()).toEqual(writes.map(([chatId, text]) => `${chatId} ${text}`).sort());
		// The workers ran them (the main instance only answered the portal's posts); their logs may lag a little.
		const byWorker = await waitFor(
			"each trigger execution in a worker's log",
			async () => {
				const logged = queue.executionsByWorker();
				return executions.every((id) => logged.has(id)) ? logged : undefined;
			},
			20_000,
		);
		progress(
			`queue mode: trigger executions by worker: ${JSON.stringify(executions.map((id) => byWorker.get(id)))}`,
		);
	});

	test('3 executions at once on one credential: every message once, none failed', async () => {
		emulator.reset();
		emulator.setBudget(BUDGET);
		addCampaignChats(emulator.world, 3 * SPREAD.messages);
		await timed('queue mode: 3 x 100 messages', async () => {
			await startCampaigns(queue.baseUrl, SPREAD.path, 3);
			await waitFor(
				'3 executions to end',
				async () =>
					[...statuses(SPREAD.id).values()].filter((status) => status === 'success').length >= 3
						? true
						: undefined,
				240_000,
			);
		});
		const texts = emulator.messages.map((message) => message.message).sort();
		const expected = [0, 1, 2]
			.flatMap((execution) =>
				Array.from({ length: SPREAD.messages }, (_, index) => campaignText(execution, index)),
			)
			.sort();
		expect(texts).toEqual(expected);
		// The campaign's requests (the trigger's loop on the main instance reads its bot meanwhile).
		const sends = emulator.requests.filter((r) => r.restMethod === 'imopenlines.crm.message.add');
		const rejected = sends.filter((r) => r.status === 503).length;
		progress(
			`queue mode: ${sends.length} requests, ${rejected} answered 503 and sent again; ` +
				`executions by worker: ${JSON.stringify([...queue.executionsByWorker()])}`,
		);
		expect(sends).toHaveLength(3 * SPREAD.messages + rejected);
	});

	test('a worker killed mid-run: the execution is not run again, nothing is posted twice, it ends failed', async () => {
		emulator.reset();
		emulator.setBudget(BUDGET);
		addCampaignChats(emulator.world, KILLED.messages);
		const before = new Set(statuses(KILLED.id).keys());
		await startCampaigns(queue.baseUrl, KILLED.path, 1);
		await waitFor(
			'40 messages posted',
			async () => (emulator.messages.length >= 40 ? true : undefined),
			120_000,
		);
		const executionId = [...statuses(KILLED.id).keys()].find((id) => !before.has(id)) as string;
		const workerIndex = queue.executionsByWorker().get(executionId);
		const worker = queue.workers.find((candidate) => candidate.index === workerIndex);
		if (!worker) throw new Error(`No worker reported starting execution ${executionId}`);
		worker.service.kill();
		await worker.service.exited;
		const atKill = emulator.messages.length;
		progress(
			`queue mode: worker ${worker.index} killed with ${atKill} of ${KILLED.messages} posted`,
		);

		// The surviving worker never takes the job over, and n8n ends the execution.
		const status = await timed('queue mode: the killed execution marked', async () => {
			return await waitFor(
				`execution ${executionId} to end`,
				async () => {
					const current = statuses(KILLED.id).get(executionId);
					return current === 'crashed' || current === 'success' || current === 'error'
						? current
						: undefined;
				},
				240_000,
			);
		});
		// Either way it ended failed, never "success": "error" when Bull's lock on the job runs out (30 s here,
		// 60 s by default), "crashed" when the main instance's queue recovery finds it first.
		expect(['error', 'crashed']).toContain(status);
		await sleep(1000);
		const texts = emulator.messages.map((message) => message.message);
		// A request on the wire at the kill may still have landed; nothing after.
		expect(texts.length).toBeLessThanOrEqual(atKill + 1);
		expect(texts.length).toBeLessThan(KILLED.messages);
		expect(new Set(texts).size).toBe(texts.length);
		const others = queue.workers.filter((candidate) => candidate !== worker);
		for (const other of others)
			expect(other.service.output()).not.toContain(`Worker started execution ${executionId} `);
	});
});
