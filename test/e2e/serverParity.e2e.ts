/**
 * End-to-end: what Bitrix24's own server code does that the docs do not say (the emulator follows it, see
 * tools/emulator/README.md), met by the packed package in a real n8n (each pinned line): a message holding
 * `$result[...]`-like text arrives byte for byte in batch mode (Bitrix24's batch would rewrite it), a wrong webhook
 * code and a free plan end in their own verdicts (both are HTTP 401), and the webhook credential's test in a running
 * n8n server tells those 401s apart by Bitrix24's code. Workflows run with `n8n execute`; the credential test goes
 * through n8n's REST API as the editor's "Test" does.
 */
import type { Emulator } from '../../tools/emulator';
import { parseBatchCommand, restCallsOf } from '../../tools/emulator';
import { outputItems, type ExecutionResult, type JsonObject } from '../../tools/n8n/runner';
import {
	NODES,
	exampleVariant,
	exampleWebhookCredential,
	webhookCredential,
	type CredentialRef,
} from '../../tools/n8n/workflows';
import { openEditorLine, type EditorLine } from './support/editorServer';
import { linesUnderTest, openLine, printTimings, timed, type LineContext } from './support/harness';

const SEND = 'imopenlines.crm.message.add';
const WEBHOOK = exampleWebhookCredential();
const WRONG_CODE_WEBHOOK: CredentialRef = {
	id: 'b24ParityWrongCode',
	name: 'Bitrix24 webhook, wrong code (parity)',
};

/** One notification for deal 501's chat in progress (1500), from Oleg (27), as the example's items node makes them. */
const toDeal501 = (note: string, message: string): JsonObject => ({
	note,
	entityType: 'deal',
	entityId: 501,
	chatId: 1500,
	senderId: 27,
	message,
});

/**
 * A developer's note quoting PHP. Inside a batch Bitrix24 would replace `$result[item0_1]` with the first message's
 * ID (the node names its commands item<index>_<n>) and `$time[item0_1][start]` with a time, up to the next space.
 */
const QUOTING = 'Debug: $result[item0_1] came back at $time[item0_1][start]';
const DOLLAR_ITEMS = [
	toDeal501('hello', 'Hello'),
	toDeal501('world', 'World'),
	toDeal501('quoting PHP', QUOTING),
];
const TWO_ITEMS = [
	toDeal501('order shipped', 'Your order has shipped'),
	toDeal501('payment received', 'Payment received, thank you'),
];

const INVALID_CREDENTIALS_SENTENCE =
	'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated (INVALID_CREDENTIALS)';
const PLAN_SENTENCE =
	"Bitrix24 refused the call: the portal's plan does not include the REST API (ACCESS_DENIED)";

function workflows() {
	return [
		exampleVariant({
			id: 'e2eParityDollar',
			name: 'e2e parity: $result[...] text, batched',
			items: DOLLAR_ITEMS,
		}),
		exampleVariant({
			id: 'e2eParityWrongCode',
			name: 'e2e parity: wrong webhook code',
			items: TWO_ITEMS,
			webhook: WRONG_CODE_WEBHOOK,
		}),
		exampleVariant({
			id: 'e2eParityWrongCodeStop',
			name: 'e2e parity: wrong webhook code, Stop Workflow',
			items: TWO_ITEMS,
			webhook: WRONG_CODE_WEBHOOK,
			onError: 'stopWorkflow',
		}),
		exampleVariant({
			id: 'e2eParityPlan',
			name: 'e2e parity: a portal on a free plan',
			items: TWO_ITEMS,
		}),
	];
}

/** The node's failure items: its error output (on both lines). */
function failures(result: ExecutionResult): JsonObject[] {
	return outputItems(result, NODES.bitrix24, 1);
}

const lines = linesUnderTest();

afterAll(() => printTimings());

describe.each(lines)('real n8n %s against a portal that answers as Bitrix24 does', (line) => {
	let ctx: LineContext;
	let emulator: Emulator;

	beforeAll(async () => {
		ctx = await timed(`${line}: open n8n`, async () => await openLine(line));
		emulator = ctx.emulator;
		await timed(`${line}: import credentials and workflows`, async () => {
			await ctx.session.importCredentials([
				webhookCredential(WEBHOOK, emulator.webhookUrl),
				webhookCredential(WRONG_CODE_WEBHOOK, emulator.wrongCodeWebhookUrl),
			]);
			await ctx.session.importWorkflows(workflows());
		});
	});

	afterAll(async () => {
		await ctx?.close();
	});

	beforeEach(() => emulator.reset());

	const run = async (label: string, workflowId: string) =>
		await timed(`${line}: ${label}`, async () => await ctx.session.execute(workflowId));

	test('a message quoting $result[...] arrives byte for byte in batch mode: it goes as its own call after the batch of the others', async () => {
		const result = await run('$result[...] text, batched', 'e2eParityDollar');

		expect(result.exitCode).toBe(0);
		expect(failures(result)).toEqual([]);
		expect(emulator.messages.map((message) => message.message)).toEqual([
			'Hello',
			'World',
			QUOTING,
		]);
		const calls = restCallsOf(emulator.requests);
		expect(calls.map((call) => call.restMethod)).toEqual(['batch', SEND]);
		expect(
			Object.values(calls[0].params.cmd as Record<string, string>).map(
				(command) => parseBatchCommand(command).params.MESSAGE,
			),
		).toEqual(['Hello', 'World']);
		expect(calls[1].params.MESSAGE).toBe(QUOTING);
		// Each item comes out with the ID of its own message.
		expect(outputItems(result, NODES.bitrix24, 0).map((item) => item.messageId)).toEqual(
			emulator.messages.map((message) => message.id),
		);
	});

	test('a wrong webhook code: every item fails with INVALID_CREDENTIALS and its sentence, not sent; the run calls the portal once', async () => {
		const result = await run('wrong webhook code', 'e2eParityWrongCode');

		expect(result.exitCode).toBe(0);
		expect(failures(result).map((item) => [item.error, item.details])).toEqual(
			TWO_ITEMS.map(() => [
				INVALID_CREDENTIALS_SENTENCE,
				{
					code: 'INVALID_CREDENTIALS',
					description: 'Invalid request credentials',
					httpStatus: 401,
					method: SEND,
					delivery: 'not_sent',
				},
			]),
		);
		// One batch call, which n8n itself sends once more after the 401.
		expect(restCallsOf(emulator.requests).map((call) => [call.restMethod, call.status])).toEqual([
			['batch', 401],
			['batch', 401],
		]);
		expect(emulator.messages).toEqual([]);
	});

	test('a wrong webhook code with Stop Workflow: the execution fails with the sentence and the hint to copy the URL again', async () => {
		const result = await run('wrong webhook code, Stop Workflow', 'e2eParityWrongCodeStop');

		expect(result.exitCode).toBe(1);
		const error = result.run.data.resultData.error;
		expect(error?.message).toBe(INVALID_CREDENTIALS_SENTENCE);
		expect(error?.description).toContain(
			'Copy the webhook URL again from Bitrix24 (Developer resources > Other > Inbound webhook)',
		);
		expect(error?.description).toContain('Nothing was posted');
	});

	test("a portal on a free plan (401 ACCESS_DENIED): the plan's sentence, not the entity's", async () => {
		emulator.world.portal.restAvailable = false;
		const result = await run('a free plan', 'e2eParityPlan');

		expect(
			failures(result).map((item) => [item.error, (item.details as JsonObject).httpStatus]),
		).toEqual(TWO_ITEMS.map(() => [PLAN_SENTENCE, 401]));
		expect(emulator.messages).toEqual([]);
	});
});

describe.each(lines)("the webhook credential's Test in a real n8n %s server", (line) => {
	let ctx: EditorLine;

	beforeAll(async () => {
		ctx = await timed(
			`${line}: start n8n server and set up the owner`,
			async () => await openEditorLine(line),
		);
	});

	afterAll(async () => {
		await ctx?.close();
	});

	beforeEach(() => ctx.emulator.reset());

	/** Creates the credential, then runs the editor's "Test" on it (POST /rest/credentials/test). */
	async function testWebhook(webhookUrl: string): Promise<{ status: string; message: string }> {
		const { name, type, data } = webhookCredential(
			{ id: '', name: `Bitrix24 webhook ${Date.now()}` },
			webhookUrl,
		);
		const created = await ctx.client.rest<{ id: string; name: string }>(
			'POST',
			'/rest/credentials',
			{ name, type, data },
		);
		return await timed(
			`${line}: credential test`,
			async () =>
				await ctx.client.rest<{ status: string; message: string }>(
					'POST',
					'/rest/credentials/test',
					{
						credentials: { id: created.id, name: created.name, type, data },
					},
				),
		);
	}

	test('tells a wrong code, a free plan and a missing scope apart, though Bitrix24 answers the first two with the same 401', async () => {
		const { emulator } = ctx;

		expect(await testWebhook(emulator.webhookUrl)).toEqual({
			status: 'OK',
			message: 'Connection successful!',
		});
		expect(await testWebhook(emulator.wrongCodeWebhookUrl)).toEqual({
			status: 'Error',
			message:
				'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated. Copy the URL again from Developer resources > Other > Inbound webhook.',
		});
		expect(await testWebhook(emulator.limitedWebhookUrl)).toEqual({
			status: 'Error',
			message:
				'The webhook works but lacks the Open Channels (imopenlines) permission: edit it in Bitrix24, tick "Open Channels (imopenlines)" and save.',
		});
		emulator.world.portal.restAvailable = false;
		expect(await testWebhook(emulator.webhookUrl)).toEqual({
			status: 'Error',
			message:
				"The webhook is right, but the portal's Bitrix24 plan does not include the REST API: webhooks work on commercial plans only (not on a free plan, nor after a subscription or trial ended).",
		});
		// Both refusals really were 401s.
		expect(
			emulator.requests.filter((request) => request.status === 401).map((request) => request.error),
		).toEqual(expect.arrayContaining(['INVALID_CREDENTIALS', 'ACCESS_DENIED']));
	});
});
