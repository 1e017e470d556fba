/**
 * End-to-end: the workflow timeout and Cancel stop the node's sending, in a real n8n server (`n8n start`, each
 * pinned line) that keeps running after the execution ended. (`n8n execute` applies the workflow timeout too,
 * see n8n.e2e.ts, but its process exits right after the execution ends, so it cannot show whether the node
 * would have gone on sending.) 400 messages, one request each to one chat, at a budget (20 per second, burst
 * 5, in the credential and the emulated portal) that needs about 20 s for all of them; the execution is
 * stopped after a few seconds, then the portal's record must stop growing and stay well below 400.
 *
 * Both lines stop the sending. In a real n8n (unlike the engine-level tests, which run RoutingNode through
 * WorkflowExecute directly), n8n's NodeTypes gives a declarative node an `execute` that runs RoutingNode with
 * the node's ExecuteContext, so each item's context does carry the execution's cancel signal, in 1.x and 2.x
 * alike; 2.x also runs the node's `onExecutionFinish` handler, which 1.x does not offer.
 */
import { sleep } from 'n8n-workflow';

import type { Emulator } from '../../tools/emulator';
import type { JsonObject } from '../../tools/n8n/runner';
import {
	NODES,
	exampleVariant,
	webhookCredential,
	type CredentialRef,
	type Workflow,
} from '../../tools/n8n/workflows';
import { openEditorLine, type EditorLine } from './support/editorServer';
import { linesUnderTest, printTimings, progress, timed, waitFor } from './support/harness';

/** The portal's budget and the credential's copy of it: 400 single requests take about 20 s. */
const BUDGET = { burstLimit: 5, requestsPerSecond: 20 };
const COUNT = 400;
/** Workflow setting `executionTimeout`, in seconds. */
const TIMEOUT_SECONDS = 5;

/** 400 numbered messages to lead 1195's chat 1341, made inside n8n by the items node. */
const FOUR_HUNDRED_CODE = `return Array.from({ length: ${COUNT} }, (_, i) => ({ json: { note: 'bulk #' + (i + 1), entityType: 'lead', entityId: 1195, chatId: 1341, senderId: 27, message: 'Order update #' + (i + 1) } }));`;

/**
 * The Bitrix24 node with fixed entity, sender and chat (only the message mapped): n8n resolves every item's
 * parameters before the first request leaves, and five mapped fields cost about 5 s for 400 items in n8n 2.x's
 * expression engine; this way sending is well under way when the execution is stopped.
 */
const FIXED_TARGET = {
	crmEntityType: 'lead',
	crmEntityId: 1195,
	userId: { __rl: true, mode: 'id', value: 27 },
	chatId: { __rl: true, mode: 'id', value: 1341 },
	options: { sendInBatches: false },
};

const TERMINAL = ['success', 'error', 'crashed', 'canceled'];

interface ExecutionRecord {
	id: string;
	status: string;
	/** Execution data as n8n stores it (flatted). */
	data?: string;
}

const lines = linesUnderTest();

afterAll(() => printTimings());

describe.each(lines)('Cancel and the workflow timeout in a real n8n %s server', (line) => {
	let ctx: EditorLine;
	let emulator: Emulator;
	let credential: CredentialRef;

	beforeAll(async () => {
		ctx = await timed(
			`${line}: start n8n server and set up the owner`,
			async () => await openEditorLine(line),
		);
		emulator = ctx.emulator;
		const { name, type, data } = webhookCredential(
			{ id: '', name: 'Bitrix24 webhook, 20 per second' },
			emulator.webhookUrl,
			BUDGET,
		);
		const created = await ctx.client.rest<{ id: string; name: string }>(
			'POST',
			'/rest/credentials',
			{ name, type, data },
		);
		credential = { id: created.id, name: created.name };
	});

	afterAll(async () => {
		await ctx?.close();
	});

	beforeEach(() => {
		emulator.reset();
		emulator.setBudget(BUDGET);
	});

	/** Saves the workflow and starts it as the editor's "Execute workflow" does; returns the execution ID. */
	const start = async (workflow: Workflow): Promise<string> => {
		const { id, name, nodes, connections, settings } = workflow;
		const saved = await ctx.client.rest<JsonObject & { id: string }>('POST', '/rest/workflows', {
			id,
			name,
			nodes,
			connections,
			settings,
			active: false,
		});
		// 1.x takes the workflow in the body; 2.x loads it from the database.
		const trigger = { name: NODES.trigger };
		const body =
			line === '1.x'
				? { workflowData: saved, triggerToStartFrom: trigger }
				: { triggerToStartFrom: trigger };
		const { executionId } = await ctx.client.rest<{ executionId: string }>(
			'POST',
			`/rest/workflows/${saved.id}/run`,
			body,
		);
		return executionId;
	};

	const execution = async (executionId: string): Promise<ExecutionRecord> =>
		await ctx.client.rest<ExecutionRecord>('GET', `/rest/executions/${executionId}`);

	const ended = async (executionId: string): Promise<ExecutionRecord> =>
		await waitFor(
			`execution ${executionId} to end`,
			async () => {
				const record = await execution(executionId);
				return TERMINAL.includes(record.status) ? record : undefined;
			},
			60_000,
		);

	/** Waits for the portal's record to stand still for a while after the execution ended; returns its length. */
	const settledCount = async (): Promise<{ settled: number; later: number }> => {
		// A request already on the wire when n8n stopped the execution may still land.
		await sleep(1500);
		const settled = emulator.messages.length;
		await sleep(2000);
		const later = emulator.messages.length;
		progress(
			`${line}: ${settled} of ${COUNT} messages posted 1.5 s after the execution ended, ${later} 2 s later`,
		);
		return { settled, later };
	};

	/**
	 * n8n reported the execution canceled; afterwards the portal's record stands still with at least `minimum`
	 * and well below all messages, each a different one of the 400, in input order (one chat).
	 */
	const expectStopped = async (record: ExecutionRecord, minimum: number) => {
		progress(
			`${line}: ${emulator.messages.length} of ${COUNT} messages posted when n8n reported the execution ${record.status}`,
		);
		expect(record.status).toBe('canceled');

		const { settled, later } = await settledCount();
		expect(later).toBe(settled);
		expect(settled).toBeGreaterThanOrEqual(minimum);
		expect(settled).toBeLessThan(COUNT / 2);
		const texts = emulator.messages.map((m) => m.message);
		expect(texts).toEqual(texts.map((_, i) => `Order update #${i + 1}`));
	};

	const variant = (id: string, name: string, settings?: JsonObject): Workflow =>
		exampleVariant({
			id,
			name,
			jsCode: FOUR_HUNDRED_CODE,
			webhook: credential,
			parameters: FIXED_TARGET,
			settings,
		});

	const stopTitle = (what: string) =>
		`${what}: the execution ends, no message leaves afterwards, well below ${COUNT} were posted, none twice`;

	test(
		stopTitle(`the workflow timeout (settings.executionTimeout ${TIMEOUT_SECONDS} s)`),
		async () => {
			const workflow = variant(
				'e2eStopTimeout',
				`e2e: ${COUNT} messages, ${TIMEOUT_SECONDS} s workflow timeout`,
				{ executionTimeout: TIMEOUT_SECONDS },
			);
			const record = await timed(`${line}: workflow timeout`, async () => {
				const executionId = await start(workflow);
				return await ended(executionId);
			});
			await expectStopped(record, 1);
		},
	);

	test(
		stopTitle('Cancel (the editor\'s "Stop execution", POST /rest/executions/:id/stop)'),
		async () => {
			const workflow = variant('e2eStopCancel', `e2e: ${COUNT} messages, cancelled`);
			const record = await timed(`${line}: cancel`, async () => {
				const executionId = await start(workflow);
				await waitFor(
					'20 messages posted',
					async () => (emulator.messages.length >= 20 ? true : undefined),
					60_000,
				);
				await ctx.client.rest('POST', `/rest/executions/${executionId}/stop`);
				return await ended(executionId);
			});
			await expectStopped(record, 20);
		},
	);
});
