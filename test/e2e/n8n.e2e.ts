/**
 * End-to-end: the packed package installed into a real n8n (each pinned line, see tools/n8n/lines.ts),
 * credentials and workflows imported with n8n's CLI, workflows run with `n8n execute`, against the Bitrix24
 * portal emulator. Every assertion compares n8n's output items with the items that went in and with what
 * the emulator recorded.
 *
 * n8n 1.x runs the same scenarios with the same expectations (README, "Compatibility").
 */
import type { Emulator, Fault } from '../../tools/emulator';
import {
	BOT_DIALOGS,
	BOTS,
	dialogOf,
	SUPPORT_BOT_TOKEN,
	OAUTH_CLIENT_ID,
	OAUTH_CLIENT_SECRET,
	timesAsked,
	restCallsOf,
	tokenCallsOf,
} from '../../tools/emulator';
import {
	findExecution,
	outputItems,
	type ExecutionResult,
	type JsonObject,
} from '../../tools/n8n/runner';
import {
	NODES,
	exampleVariant,
	exampleWebhookCredential,
	loadExample,
	oauthCredential,
	webhookCredential,
	type CredentialRef,
	type Variant,
} from '../../tools/n8n/workflows';
import {
	linesUnderTest,
	openLine,
	printTimings,
	timed,
	type LineContext,
	type LineName,
} from './support/harness';

const WEBHOOK = exampleWebhookCredential();
const WRONG_CODE_WEBHOOK: CredentialRef = {
	id: 'b24WrongCodeHook',
	name: 'Bitrix24 webhook, wrong code',
};
/**
 * The per-item bulk run's credential and portal: the default burst at 10 times the default rate, so 200 single
 * requests are paced for about 7.5 s instead of 75 s (the real-time pacing is the engine tests' and the bench's).
 */
const FAST_BUDGET = { burstLimit: 50, requestsPerSecond: 20 };
const FAST_WEBHOOK: CredentialRef = {
	id: 'b24FastHook',
	name: 'Bitrix24 webhook, 20 per second',
};
const NO_SCOPE_WEBHOOK: CredentialRef = {
	id: 'b24CrmOnlyHook',
	name: 'Bitrix24 webhook, crm and user scopes only',
};
/** The webhook with SupportBot 39's token: what Bot Dialog needs. */
const BOT_WEBHOOK: CredentialRef = {
	id: 'b24BotHook',
	name: 'Bitrix24 webhook with the bot token',
};
const OAUTH: CredentialRef = {
	id: 'b24OAuthExpired',
	name: 'Bitrix24 OAuth2, expired access token',
};

/** One CRM notification, as the example's items node produces them. */
interface Notification extends JsonObject {
	note: string;
	entityType: string;
	entityId: number | string;
	chatId: number;
	senderId: number;
	message: string;
}

/**
 * What should become of an item: sent, or failed with this Bitrix24 code, HTTP status (null = no answer) and
 * delivery verdict. A failure names the REST method (the message's own) unless the node stopped the item
 * before calling Bitrix24 (invalid input).
 */
type Failure = {
	code: string;
	httpStatus: number | null;
	delivery: 'not_sent' | 'unknown';
	argument?: string;
};
type Outcome = 'sent' | Failure;

const SEND = 'imopenlines.crm.message.add';

/** Invalid input, caught before sending. */
const invalid = (argument: string): Failure => ({
	code: 'ERROR_ARGUMENT',
	httpStatus: null,
	delivery: 'not_sent',
	argument,
});
/** Refused by the portal: nothing was posted. */
const refused = (code: string, httpStatus: number): Failure => ({
	code,
	httpStatus,
	delivery: 'not_sent',
});

const note = (n: Notification | JsonObject): string => String(n.note);

const valid = (
	noteText: string,
	entityType: string,
	entityId: number,
	chatId: number,
	senderId: number,
): Notification => ({
	note: noteText,
	entityType,
	entityId,
	chatId,
	senderId,
	message: `${noteText}: a message for ${entityType} ${entityId}`,
});

/** The shipped example's six notifications and what the README promises for each. */
const EXAMPLE_OUTCOMES: Record<string, Outcome> = {
	'order shipped': 'sent',
	'bot confirms a callback': 'sent',
	'payment received': 'sent',
	'the dialog is finished': refused('CHAT_NOT_IN_CRM', 400),
	'the sender is not in the chat': refused('CANCELED', 400),
	'a broken mapping': invalid('CRM_ENTITY'),
};

/** Refusals by the portal and invalid input caught before sending, in one run (one batch call). */
const REFUSALS: Array<[Notification, Outcome]> = [
	[valid('company chat, in progress', 'company', 12, 1700, 27), 'sent'],
	[
		valid('the webhook user may not read lead 1198', 'lead', 1198, 1800, 1),
		refused('ACCESS_DENIED', 403),
	],
	[valid('the sender may not read deal 501', 'deal', 501, 1500, 31), refused('ACCESS_DENIED', 403)],
	[
		valid('chat 1400 belongs to lead 1196', 'lead', 1195, 1400, 27),
		refused('CHAT_NOT_IN_CRM', 400),
	],
	[
		valid('the dialog is new, nobody answered yet', 'lead', 1195, 1343, 27),
		refused('CHAT_NOT_IN_CRM', 400),
	],
	[{ ...valid('an unknown entity type', 'invoice', 1195, 1341, 27) }, invalid('CRM_ENTITY_TYPE')],
	[{ ...valid('an empty message', 'lead', 1195, 1341, 27), message: '' }, invalid('MESSAGE')],
	[{ ...valid('a chat ID of 0', 'lead', 1195, 0, 27) }, invalid('CHAT_ID')],
	[{ ...valid('a fractional sender ID', 'lead', 1195, 1341, 1.5) }, invalid('USER_ID')],
	[
		{
			...valid('a message over 20,000 characters', 'lead', 1195, 1341, 27),
			message: 'x'.repeat(20_001),
		},
		invalid('MESSAGE'),
	],
	[valid('lead chat, in progress, sent by the bot', 'lead', 1195, 1341, 39), 'sent'],
];

const TWO_VALID: Notification[] = [
	valid('order shipped', 'deal', 501, 1500, 27),
	valid('payment received', 'contact', 77, 1600, 27),
];
const THREE_VALID: Notification[] = [
	...TWO_VALID,
	valid('bot confirms a callback', 'lead', 1195, 1341, 39),
];

/** Portal and credential failures: each case is its own run of TWO_VALID (one batch call). */
interface FailureCase {
	name: string;
	workflowId: string;
	faults: Fault[];
	outcome: Outcome;
	/** Messages the portal accepted in the end. */
	accepted: number;
	/** REST calls that reached the portal (per line, when they differ). */
	calls: number | Record<LineName, number>;
}

const FAILURE_CASES: FailureCase[] = [
	{
		name: 'a 500 answer',
		workflowId: 'e2eTwoItems',
		faults: [
			{
				kind: 'status',
				status: 500,
				error: 'INTERNAL_SERVER_ERROR',
				errorDescription: 'Internal server error',
			},
		],
		// A 5xx can come after the method ran: Bitrix24 may have posted.
		outcome: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, delivery: 'unknown' },
		accepted: 0,
		calls: 1,
	},
	{
		name: 'an HTML 502 page from a proxy',
		workflowId: 'e2eTwoItems',
		faults: [{ kind: 'html', status: 502 }],
		// The node cannot tell a proxy page sent before the portal from one sent after it posted.
		outcome: { code: 'UNEXPECTED_RESPONSE', httpStatus: 502, delivery: 'unknown' },
		accepted: 0,
		calls: 1,
	},
	{
		name: 'a connection closed after the portal posted the messages (not sent again)',
		workflowId: 'e2eTwoItems',
		faults: [{ kind: 'dropAfterProcessing' }],
		outcome: { code: 'DELIVERY_UNKNOWN', httpStatus: null, delivery: 'unknown' },
		accepted: 2,
		calls: 1,
	},
	{
		name: 'an HTML 504 page from a proxy after the portal posted the messages (not sent again)',
		workflowId: 'e2eTwoItems',
		faults: [{ kind: 'badAnswerAfterProcessing', answer: 'html504' }],
		outcome: { code: 'UNEXPECTED_RESPONSE', httpStatus: 504, delivery: 'unknown' },
		accepted: 2,
		calls: 1,
	},
	{
		name: 'a 503 QUERY_LIMIT_EXCEEDED (nothing processed: retried once, then sent)',
		workflowId: 'e2eTwoItems',
		faults: [
			{
				kind: 'status',
				status: 503,
				error: 'QUERY_LIMIT_EXCEEDED',
				errorDescription: 'Too many requests',
			},
		],
		outcome: 'sent',
		accepted: 2,
		calls: 2,
	},
	{
		name: 'a webhook URL with a wrong code',
		workflowId: 'e2eWrongCode',
		faults: [],
		// Bitrix24 answers a wrong or deleted webhook code with 401 INVALID_CREDENTIALS (NO_AUTH_FOUND only when no
		// credentials were given at all).
		outcome: refused('INVALID_CREDENTIALS', 401),
		accepted: 0,
		// n8n's httpRequestWithAuthentication (both lines) sends a request that got 401 once more after its
		// preAuthentication hook, even for credentials without an expirable field. A 401 posted nothing.
		calls: 2,
	},
	{
		name: 'a webhook without the imopenlines scope',
		workflowId: 'e2eNoScope',
		faults: [],
		// Bitrix24 refuses a call outside the webhook's scopes with 401, like every other auth refusal.
		outcome: refused('insufficient_scope', 401),
		accepted: 0,
		calls: 1,
	},
];

const itemsOf = (notifications: Notification[]): Variant['items'] => notifications;

/** Both ways the node sends: workflow id suffix and the node's options. */
const MODES: Array<[label: string, suffix: string, options: JsonObject]> = [
	['batched (the default)', 'Batched', {}],
	['one request per message (Send in Batches off)', 'Single', { sendInBatches: false }],
];

/**
 * TWO_VALID with a message cut inside an emoji between them. The text is made inside n8n by the items node
 * (a JSON file cannot hold half an emoji): 'Your order 😀'.slice(0, 12) keeps only the emoji's high surrogate.
 */
const HALF_EMOJI_CODE = `return [
  ${JSON.stringify(TWO_VALID[0])},
  { note: 'half an emoji', entityType: 'lead', entityId: 1195, chatId: 1341, senderId: 27, message: 'Your order \\u{1F600}'.slice(0, 12) },
  ${JSON.stringify(TWO_VALID[1])},
].map((json) => ({ json }));`;

/** Three messages the portal takes and one it refuses (chat 1342's dialog is finished). */
const RETRY_ITEMS: Notification[] = [
	valid('order shipped', 'deal', 501, 1500, 27),
	valid('the dialog is finished', 'lead', 1195, 1342, 27),
	valid('payment received', 'contact', 77, 1600, 27),
	valid('bot confirms a callback', 'lead', 1195, 1341, 39),
];

/** Two answers of the bot: one into its own dialog, one into a dialog an operator took over (the bot left it). */
const BOT_REPLIES: JsonObject[] = [
	{
		note: 'the bot holds the dialog',
		chatId: BOT_DIALOGS.WITH_BOT,
		message: 'Your order ships tomorrow.',
	},
	{ note: 'the bot left at hand-over', chatId: BOT_DIALOGS.WITH_OPERATOR, message: 'Still there?' },
];

/** 200 notifications to lead 1195's chat, numbered, generated inside n8n by the items node. */
const TWO_HUNDRED_CODE =
	"return Array.from({ length: 200 }, (_, i) => ({ json: { note: 'bulk #' + (i + 1), entityType: 'lead', entityId: 1195, chatId: 1341, senderId: 27, message: 'Order update #' + (i + 1) } }));";

function workflows(): Array<ReturnType<typeof loadExample>> {
	return [
		loadExample(),
		exampleVariant({
			id: 'e2eRefusals',
			name: 'e2e: refusals and invalid input',
			items: itemsOf(REFUSALS.map(([n]) => n)),
		}),
		exampleVariant({
			id: 'e2eTwoItems',
			name: 'e2e: two notifications',
			items: itemsOf(TWO_VALID),
		}),
		exampleVariant({
			id: 'e2eWrongCode',
			name: 'e2e: wrong webhook code',
			items: itemsOf(TWO_VALID),
			webhook: WRONG_CODE_WEBHOOK,
		}),
		exampleVariant({
			id: 'e2eNoScope',
			name: 'e2e: webhook without scope',
			items: itemsOf(TWO_VALID),
			webhook: NO_SCOPE_WEBHOOK,
		}),
		exampleVariant({
			id: 'e2eStop',
			name: 'e2e: Stop Workflow on error',
			items: itemsOf([
				TWO_VALID[0] as Notification,
				valid('the dialog is finished', 'lead', 1195, 1342, 27),
			]),
			onError: 'stopWorkflow',
		}),
		// One request per message: three requests meet the expired token at once.
		exampleVariant({
			id: 'e2eOAuth',
			name: 'e2e: OAuth2 with an expired token',
			items: itemsOf(THREE_VALID),
			oauth: OAUTH,
			parameters: { options: { sendInBatches: false } },
		}),
		...MODES.map(([label, suffix, options]) =>
			exampleVariant({
				id: `e2eHalfEmoji${suffix}`,
				name: `e2e: half an emoji, ${label}`,
				jsCode: HALF_EMOJI_CODE,
				parameters: { options },
			}),
		),
		...MODES.map(([label, suffix, options]) =>
			exampleVariant({
				id: `e2eRetry${suffix}`,
				name: `e2e: Retry On Fail with Stop Workflow, ${label}`,
				items: itemsOf(RETRY_ITEMS),
				onError: 'stopWorkflow',
				retry: { maxTries: 3, waitBetweenTries: 1000 },
				parameters: { options },
			}),
		),
		// The example's node switched to Bot Dialog > Send Message: SupportBot 39 answers in two dialogs.
		exampleVariant({
			id: 'e2eBotReply',
			name: 'e2e: Bot Dialog replies',
			items: BOT_REPLIES,
			webhook: BOT_WEBHOOK,
			parameters: {
				resource: 'botDialog',
				operation: 'sendMessage',
				botId: { __rl: true, mode: 'id', value: String(BOTS.SUPPORT_BOT) },
				dialogChatId: '={{ $json.chatId }}',
				text: '={{ $json.message }}',
			},
		}),
		exampleVariant({
			id: 'e2eBulkBatched',
			name: 'e2e: 200 notifications, batched (default)',
			jsCode: TWO_HUNDRED_CODE,
		}),
		// 200 single requests at the default budget need about 75 s; the workflow timeout is 3 s.
		exampleVariant({
			id: 'e2eTimeoutCli',
			name: 'e2e: 200 notifications, one request each, 3 s workflow timeout',
			jsCode: TWO_HUNDRED_CODE,
			parameters: { options: { sendInBatches: false } },
			settings: { executionTimeout: 3 },
		}),
		exampleVariant({
			id: 'e2eBulkSingle',
			name: 'e2e: 200 notifications, one request each',
			jsCode: TWO_HUNDRED_CODE,
			webhook: FAST_WEBHOOK,
			parameters: { options: { sendInBatches: false } },
		}),
	];
}

interface Branches {
	inputs: JsonObject[];
	/** The Bitrix24 node's main output and what reached "Sent". */
	main: JsonObject[];
	sent: JsonObject[];
	/** The Bitrix24 node's error output and what reached "Needs attention". */
	error: JsonObject[];
	failed: JsonObject[];
}

function branchesOf(result: ExecutionResult): Branches {
	return {
		inputs: outputItems(result, NODES.items),
		main: outputItems(result, NODES.bitrix24, 0),
		sent: outputItems(result, NODES.sent),
		error: outputItems(result, NODES.bitrix24, 1),
		failed: outputItems(result, NODES.failed),
	};
}

/**
 * The failure item's own fields (error + details), whatever the input: details has exactly these keys, with
 * the delivery verdict, and the method that failed unless the node stopped the item before calling Bitrix24.
 */
function failureFields(outcome: Failure): JsonObject {
	return {
		error: expect.stringMatching(new RegExp(`\\(${outcome.code}\\)$`)),
		details: {
			code: outcome.code,
			description: expect.any(String),
			httpStatus: outcome.httpStatus,
			delivery: outcome.delivery,
			...(outcome.argument ? { argument: outcome.argument } : { method: SEND }),
		},
	};
}

/**
 * Checks one run: each input item comes out once, on the branch its outcome says, in input order; sent
 * items carry the message ID the portal gave that very message; the portal holds each sent message
 * exactly once. Failures leave through the error output with all their input fields.
 */
function expectRun(result: ExecutionResult, outcomes: Outcome[], emulator: Emulator): void {
	expect(result.exitCode).toBe(0);
	const { inputs, main, sent, error, failed } = branchesOf(result);
	expect(inputs).toHaveLength(outcomes.length);

	// The portal's record: exactly the messages of the items that should go out, each once.
	const expectedMessages = inputs
		.filter((_, i) => outcomes[i] === 'sent')
		.map((input) => ({
			chatId: Number(input.chatId),
			userId: Number(input.senderId),
			crmEntityType: String(input.entityType).toLowerCase(),
			crmEntityId: Number(input.entityId),
			message: input.message,
		}));
	expect(
		emulator.messages.map(({ chatId, userId, crmEntityType, crmEntityId, message }) => ({
			chatId,
			userId,
			crmEntityType,
			crmEntityId,
			message,
		})),
	).toEqual(expect.arrayContaining(expectedMessages));
	expect(emulator.messages).toHaveLength(expectedMessages.length);

	const sentJson = (input: JsonObject) => {
		const record = emulator.messages.find(
			(m) =>
				m.chatId === Number(input.chatId) &&
				m.userId === Number(input.senderId) &&
				m.message === input.message,
		);
		return {
			messageId: record?.id,
			chatId: Number(input.chatId),
			crmEntityType: String(input.entityType).toLowerCase(),
			crmEntityId: Number(input.entityId),
			userId: Number(input.senderId),
		};
	};
	const expectedMain = inputs.filter((_, i) => outcomes[i] === 'sent').map(sentJson);
	const expectedError = inputs.flatMap((input, i) => {
		const outcome = outcomes[i] as Outcome;
		return outcome === 'sent' ? [] : [{ ...input, ...failureFields(outcome) }];
	});
	expect(main).toEqual(expectedMain);
	expect(error).toEqual(expectedError);
	for (const item of error)
		expect(Object.keys(item).sort()).toEqual(
			[...Object.keys(inputs[0] ?? {}), 'error', 'details'].sort(),
		);
	// The branches after the node get exactly what the node put out.
	expect(sent).toEqual(main);
	expect(failed).toEqual(error);
}

const lines = linesUnderTest();

afterAll(() => printTimings());

describe.each(lines)('real n8n %s', (line) => {
	let ctx: LineContext;
	let emulator: Emulator;

	beforeAll(async () => {
		ctx = await timed(`${line}: open n8n`, async () => await openLine(line));
		emulator = ctx.emulator;
		await timed(`${line}: import credentials and workflows`, async () => {
			await ctx.session.importCredentials([
				webhookCredential(WEBHOOK, emulator.webhookUrl),
				webhookCredential(WRONG_CODE_WEBHOOK, emulator.wrongCodeWebhookUrl),
				webhookCredential(NO_SCOPE_WEBHOOK, emulator.limitedWebhookUrl),
				webhookCredential(FAST_WEBHOOK, emulator.webhookUrl, FAST_BUDGET),
				{
					...webhookCredential(BOT_WEBHOOK, emulator.webhookUrl),
					data: { webhookUrl: emulator.webhookUrl, botToken: SUPPORT_BOT_TOKEN },
				},
			]);
			await ctx.session.importWorkflows(workflows());
		});
	});

	afterAll(async () => {
		await ctx?.close();
	});

	beforeEach(() => {
		emulator.reset();
	});

	const run = async (label: string, workflowId: string, timeoutMs?: number) =>
		await timed(
			`${line}: ${label}`,
			async () => await ctx.session.execute(workflowId, { timeoutMs }),
		);

	test('the example workflow as shipped: sent messages on the main branch, each failure on the error branch with its input fields', async () => {
		const result = await run('example workflow', loadExample().id);
		const inputs = outputItems(result, NODES.items);
		expect(inputs.map(note)).toEqual(Object.keys(EXAMPLE_OUTCOMES));
		expectRun(
			result,
			inputs.map((input) => EXAMPLE_OUTCOMES[note(input)] as Outcome),
			emulator,
		);
	});

	test('refusals by the portal and invalid input, valid items still sent: each failure on the error branch with its input fields', async () => {
		const result = await run('refusals and invalid input', 'e2eRefusals');
		expectRun(
			result,
			REFUSALS.map(([, outcome]) => outcome),
			emulator,
		);
		// Invalid items never reached the portal: one batch call carried the valid-looking ones.
		expect(restCallsOf(emulator.requests).map((call) => call.restMethod)).toEqual(['batch']);
	});

	test.each(FAILURE_CASES)('portal and credential failures: $name', async (failure) => {
		if (failure.faults.length > 0) emulator.injectFaults(failure.faults);
		const result = await run(`failure: ${failure.name}`, failure.workflowId);
		if (failure.accepted > 0 && failure.outcome !== 'sent') {
			// Delivered, but the answer was lost: the node must say so and must not send again.
			expect(result.exitCode).toBe(0);
			expect(emulator.messages.map((m) => m.message).sort()).toEqual(
				TWO_VALID.map((n) => n.message).sort(),
			);
			expect([...timesAsked(emulator.requests).values()]).toEqual(TWO_VALID.map(() => 1));
			const { main, error } = branchesOf(result);
			const expected = TWO_VALID.map((input) => ({
				...input,
				...failureFields(failure.outcome as Failure),
			}));
			expect(error).toEqual(expected);
			expect(main).toEqual([]);
		} else {
			expectRun(
				result,
				TWO_VALID.map(() => failure.outcome),
				emulator,
			);
		}
		expect(emulator.messages).toHaveLength(failure.accepted);
		expect(restCallsOf(emulator.requests)).toHaveLength(
			typeof failure.calls === 'number' ? failure.calls : failure.calls[line],
		);
		expect(emulator.state().pendingFaults).toBe(0);
	});

	test('On Error "Stop Workflow": the execution fails with the readable message', async () => {
		const result = await run('Stop Workflow', 'e2eStop');
		expect(result.exitCode).toBe(1);
		const error = result.run.data.resultData.error;
		expect(error?.message).toBe(
			'Bitrix24 refused the message: the chat 1342 is not linked to lead 1195 or its dialog is not in progress (CHAT_NOT_IN_CRM)',
		);
		expect(error?.description).toEqual(expect.stringContaining('CHAT_NOT_IN_CRM'));
		const runData = result.run.data.resultData.runData;
		expect(runData[NODES.bitrix24]?.[0]?.error?.message).toBe(error?.message);
		expect(runData[NODES.sent]).toBeUndefined();
		expect(runData[NODES.failed]).toBeUndefined();
		// The valid item of the same batch had been posted before the failure stopped the run; only once.
		expect(emulator.messages.map((m) => m.chatId)).toEqual([1500]);
	});

	test.each(MODES)(
		'half an emoji in a message (text cut inside a character), %s: that item fails alone, the others are sent once',
		async (_label, suffix) => {
			const result = await run(`half an emoji, ${suffix}`, `e2eHalfEmoji${suffix}`);
			const inputs = outputItems(result, NODES.items);
			// The lone high surrogate reached the node as made.
			expect(inputs[1]?.message).toBe('Your order \uD83D');
			expectRun(result, ['sent', invalid('MESSAGE'), 'sent'], emulator);
			const failure = branchesOf(result).error[0];
			expect(failure?.error).toContain('"Message" (MESSAGE) has half of an emoji');
			// Only the two good messages were asked for, each once.
			expect(timesAsked(emulator.requests)).toEqual(new Map(TWO_VALID.map((n) => [n.message, 1])));
			expect(restCallsOf(emulator.requests).map((call) => call.restMethod)).toEqual(
				suffix === 'Batched' ? ['batch'] : [SEND, SEND],
			);
		},
	);

	test.each(MODES)(
		'Settings > Retry On Fail (3 tries) with On Error "Stop Workflow", %s: the run fails, every good message is posted once, the refused one asked 3 times',
		async (_label, suffix) => {
			const result = await run(`Retry On Fail, ${suffix}`, `e2eRetry${suffix}`);
			expect(result.exitCode).toBe(1);
			expect(result.run.data.resultData.error?.message).toBe(
				'Bitrix24 refused the message: the chat 1342 is not linked to lead 1195 or its dialog is not in progress (CHAT_NOT_IN_CRM)',
			);
			const good = RETRY_ITEMS.filter((n) => n.chatId !== 1342).map((n) => n.message);
			const refusedText = RETRY_ITEMS.find((n) => n.chatId === 1342)?.message as string;
			expect(emulator.messages.map((m) => m.message).sort()).toEqual([...good].sort());
			// n8n ran the node three times; only the refused message (nothing posted) was asked again.
			expect(timesAsked(emulator.requests)).toEqual(
				new Map([...good.map((text): [string, number] => [text, 1]), [refusedText, 3]]),
			);
		},
	);

	// `n8n execute` applies the workflow's executionTimeout (WorkflowRunner.runMainProcess) and exits right after,
	// so what the node does after the stop is checked in a running server (stop.e2e.ts).
	test('the workflow timeout under `n8n execute`: exit 1 with "cancelled because it timed out", no execution printed, well below 200 sent', async () => {
		const result = await timed(
			`${line}: workflow timeout (n8n execute)`,
			async () =>
				await ctx.session.command(['execute', '--id=e2eTimeoutCli', '--rawOutput'], {
					allowFailure: true,
					label: 'execute e2eTimeoutCli',
				}),
		);
		expect(result.code).toBe(1);
		expect(result.records.map((record) => record.message)).toContain(
			'The execution was cancelled because it timed out',
		);
		expect(findExecution(result.records)).toBeUndefined();
		const texts = emulator.messages.map((m) => m.message);
		expect(texts.length).toBeLessThan(200);
		expect(new Set(texts).size).toBe(texts.length);
	});

	test('OAuth2 with an expired access token met by three requests at once: refreshed once, the new token stored and used by the next run', async () => {
		const expired = emulator.issueOAuthTokens({ expired: true });
		const setup = {
			portalUrl: emulator.baseUrl,
			accessTokenUrl: emulator.tokenUrl,
			clientId: OAUTH_CLIENT_ID,
			clientSecret: OAUTH_CLIENT_SECRET,
			tokens: expired,
		};
		await ctx.session.importCredentials([oauthCredential(OAUTH, setup)]);
		const storedToken = async () =>
			(await ctx.session.exportCredentials()).find((c) => c.id === OAUTH.id)?.data
				.oauthTokenData as JsonObject | undefined;

		const first = await run('OAuth2 run 1 (expired token)', 'e2eOAuth');
		const refreshes = tokenCallsOf(emulator.requests);
		const firstCalls = restCallsOf(emulator.requests);
		const stored = await storedToken();

		expectRun(
			first,
			THREE_VALID.map((): Outcome => 'sent'),
			emulator,
		);
		expect(refreshes).toHaveLength(1);
		expect(refreshes[0]?.params).toEqual(
			expect.objectContaining({
				grant_type: 'refresh_token',
				refresh_token: expired.refresh_token,
			}),
		);
		expect(refreshes[0]?.status).toBe(200);
		expect(
			firstCalls
				.filter((c) => c.status === 401)
				.every((c) => c.headers.authorization === `Bearer ${expired.access_token}`),
		).toBe(true);
		expect(firstCalls.filter((c) => c.status === 401).length).toBeGreaterThan(0);
		const afterRefresh = firstCalls.filter((c) => c.status === 200);
		expect(afterRefresh).toHaveLength(THREE_VALID.length);

		// n8n stored the refreshed pair (encrypted; exported decrypted here), and it is the token that worked.
		expect(stored?.access_token).toEqual(expect.any(String));
		expect(stored?.access_token).not.toBe(expired.access_token);
		expect(stored?.refresh_token).not.toBe(expired.refresh_token);
		for (const call of afterRefresh)
			expect(call.headers.authorization).toBe(`Bearer ${String(stored?.access_token)}`);

		// The next run starts with the stored token: no refresh, no 401.
		const before = emulator.requests.length;
		const messagesBefore = emulator.messages.length;
		const second = await run('OAuth2 run 2 (stored token)', 'e2eOAuth');
		expect(second.exitCode).toBe(0);
		expect(tokenCallsOf(emulator.requests, before)).toEqual([]);
		const secondCalls = restCallsOf(emulator.requests, before);
		expect(secondCalls.map((c) => [c.status, c.headers.authorization])).toEqual(
			THREE_VALID.map(() => [200, `Bearer ${String(stored?.access_token)}`]),
		);
		expect(outputItems(second, NODES.sent).map((item) => item.messageId)).toEqual(
			emulator.messages.slice(messagesBefore).map((m) => m.id),
		);
		expect(emulator.messages).toHaveLength(messagesBefore + THREE_VALID.length);
	});

	test("Bot Dialog > Send Message: the reply lands once in the bot's dialog, a refusal on the error branch with its input fields, the bot token nowhere", async () => {
		const result = await run('Bot Dialog replies', 'e2eBotReply');
		expect(result.exitCode).toBe(0);
		const { main, error } = branchesOf(result);
		const [posted, ...more] = (
			dialogOf(emulator.world, BOT_DIALOGS.WITH_BOT)?.messages ?? []
		).filter((m) => m.authorId === BOTS.SUPPORT_BOT && m.text === BOT_REPLIES[0]?.message);
		expect(more).toEqual([]);
		expect(main).toEqual([
			{
				messageId: posted?.id,
				chatId: BOT_DIALOGS.WITH_BOT,
				dialogId: `chat${BOT_DIALOGS.WITH_BOT}`,
				botId: BOTS.SUPPORT_BOT,
			},
		]);
		expect(error).toEqual([
			{
				...BOT_REPLIES[1],
				error: expect.stringMatching(/\(ACCESS_DENIED\)$/),
				details: expect.objectContaining({
					code: 'ACCESS_DENIED',
					httpStatus: 400,
					delivery: 'not_sent',
					method: 'imbot.v2.Chat.Message.send',
				}),
			},
		]);
		expect(
			(dialogOf(emulator.world, BOT_DIALOGS.WITH_OPERATOR)?.messages ?? []).filter(
				(m) => m.text === BOT_REPLIES[1]?.message,
			),
		).toEqual([]);
		expect(JSON.stringify(result.run)).not.toContain(SUPPORT_BOT_TOKEN);
	});

	test.each([
		['the default budget (burst 50, 2/s), batched (the default)', 'e2eBulkBatched', undefined],
		[
			'burst 50 at 20/s, one request per message (Send in Batches off)',
			'e2eBulkSingle',
			FAST_BUDGET,
		],
	])('200 items against %s: every message exactly once', async (_label, workflowId, budget) => {
		if (budget) emulator.setBudget(budget);
		expect(emulator.state().budget).toEqual(
			expect.objectContaining(budget ?? { burstLimit: 50, requestsPerSecond: 2 }),
		);
		const result = await run(`200 items, ${workflowId}`, workflowId, 600_000);
		expect(result.exitCode).toBe(0);
		const { inputs, main, error } = branchesOf(result);
		expect(inputs).toHaveLength(200);
		expect(error).toEqual([]);
		expect(main).toHaveLength(200);
		expect(main.filter((item) => 'error' in item)).toEqual([]);

		const texts = emulator.messages.map((m) => m.message);
		expect(texts).toHaveLength(200);
		expect(new Set(texts).size).toBe(200);
		expect([...texts].sort()).toEqual(inputs.map((input) => String(input.message)).sort());
		// Item i got the ID the portal gave message i.
		const idByText = new Map(emulator.messages.map((m) => [m.message, m.id]));
		expect(main.map((item) => item.messageId)).toEqual(
			inputs.map((input) => idByText.get(String(input.message))),
		);
		const rejected = emulator.state().rejected503;
		const calls = restCallsOf(emulator.requests);
		if (workflowId === 'e2eBulkSingle') {
			// Paced under the portal's limit: 200 single calls; a loaded machine may bunch a few into a 503, and each
			// extra call is such a refusal sent again, never a second copy.
			expect(calls.filter((c) => c.restMethod === 'imopenlines.crm.message.add')).toHaveLength(
				200 + rejected,
			);
		} else {
			expect(calls.map((c) => c.restMethod)).toEqual(['batch', 'batch', 'batch', 'batch']);
		}
	});
});
