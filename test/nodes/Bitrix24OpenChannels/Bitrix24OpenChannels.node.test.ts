import { LoggerProxy, type IDataObject, type INodeParameters } from 'n8n-workflow';

import {
	parseBatchCommand,
	postsAsked,
	LIMITED_WEBHOOK_CODE,
	OAUTH_CLIENT_ID,
	OAUTH_CLIENT_SECRET,
	WEBHOOK_CODE,
	startEmulator,
	type Emulator,
} from '../../../tools/emulator';
import {
	CHAT_1400_REFUSED,
	chatNotInCrmItem,
	invalidArgumentItem,
} from '../../../tools/harness/expectedItems';
import { TestCredentialsHelper } from '../../../tools/harness/credentialsHelper';
import { oauthCredential } from '../../../tools/harness/oauthCredential';
import {
	MAPPED_PARAMETERS,
	runNode,
	type OnError,
	type RunOptions,
	SENDING_MODES,
} from '../../../tools/harness/runWorkflow';

/** Parameters mapped from the input items, the way a workflow maps a trigger's fields. */
const MAPPED = MAPPED_PARAMETERS;

const lead1195 = (chat: unknown, text = `Hello chat ${String(chat)}`): IDataObject => ({
	type: 'lead',
	entityId: 1195,
	sender: 27,
	chat: chat as IDataObject[string],
	text,
});

/** Every log line n8n writes during a run, to prove secrets never reach them. */
const logLines: string[] = [];
const capture = (level: string) => (message: string, meta?: object) =>
	logLines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
LoggerProxy.init({
	error: capture('error'),
	warn: capture('warn'),
	info: capture('info'),
	debug: capture('debug'),
});

let emulator: Emulator;

beforeAll(async () => {
	emulator = await startEmulator();
});

afterAll(async () => {
	await emulator.close();
});

beforeEach(() => {
	emulator.reset();
	logLines.length = 0;
});

function viaWebhookIn(
	options: INodeParameters,
	items: IDataObject[],
	extra: Partial<RunOptions> = {},
) {
	return viaWebhook(items, { parameters: { ...MAPPED, options }, ...extra });
}

function viaWebhook(
	items: IDataObject[],
	extra: Partial<RunOptions> = {},
	webhookUrl = emulator.webhookUrl,
) {
	return runNode({
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl } },
		items,
		parameters: MAPPED,
		...extra,
	});
}

const messageAddRequests = () =>
	emulator.requests.filter((request) => request.restMethod === 'imopenlines.crm.message.add');

/** Every message the portal was asked to post, alone or inside a batch call. */
const messagesAsked = () => postsAsked(emulator.requests);

describe('sending messages', () => {
	it('sends one message per item and returns each message ID paired to its item', async () => {
		const { outputs, error } = await viaWebhook([
			lead1195(1341, 'First'),
			lead1195(1341, 'Second'),
			lead1195(1341, 'Third'),
		]);

		expect(error).toBeUndefined();
		expect(outputs[0].map((item) => item.json)).toEqual([
			{ messageId: 19880117, chatId: 1341, crmEntityType: 'lead', crmEntityId: 1195, userId: 27 },
			{ messageId: 19880118, chatId: 1341, crmEntityType: 'lead', crmEntityId: 1195, userId: 27 },
			{ messageId: 19880119, chatId: 1341, crmEntityType: 'lead', crmEntityId: 1195, userId: 27 },
		]);
		expect(outputs[0].map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
		]);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual([
			'First',
			'Second',
			'Third',
		]);
		expect(emulator.messages.map((message) => message.authKind)).toEqual([
			'webhook',
			'webhook',
			'webhook',
		]);
	});

	it('posts a JSON body with exactly the five upper-case keys, IDs as numbers and the entity type in lower case', async () => {
		await viaWebhook([
			{
				type: 'LEAD',
				entityId: '1195',
				sender: ' 27 ',
				chat: '1341',
				text: 'Line 1\nLine 2 & [b]bold[/b]',
			},
		]);

		const [request] = messageAddRequests();
		expect(request.httpMethod).toBe('POST');
		expect(request.path).toBe(`/rest/1/${WEBHOOK_CODE}/imopenlines.crm.message.add.json`);
		expect(request.headers['content-type']).toContain('application/json');
		expect(JSON.parse(request.rawBody)).toStrictEqual({
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
			USER_ID: 27,
			CHAT_ID: 1341,
			MESSAGE: 'Line 1\nLine 2 & [b]bold[/b]',
		});
	});

	it('takes fixed values from the fields as well as expressions', async () => {
		const { outputs } = await runNode({
			credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emulator.webhookUrl } },
			items: [{ anything: true }],
			parameters: {
				crmEntityType: 'deal',
				crmEntityId: '501',
				userId: { __rl: true, mode: 'id', value: '27' },
				chatId: { __rl: true, mode: 'id', value: '1500' },
				message: 'Your order has shipped.',
			},
		});

		expect(outputs[0][0].json).toEqual({
			messageId: 19880117,
			chatId: 1500,
			crmEntityType: 'deal',
			crmEntityId: 501,
			userId: 27,
		});
		expect(emulator.messages[0]).toMatchObject({
			chatId: 1500,
			userId: 27,
			message: 'Your order has shipped.',
		});
	});

	it('sends to every CRM entity type, a bot as sender included', async () => {
		const { outputs } = await viaWebhook([
			{ type: 'Contact', entityId: 77, sender: 27, chat: 1600, text: 'to a contact' },
			{ type: 'company', entityId: 12, sender: 27, chat: 1700, text: 'to a company' },
			{ type: 'lead', entityId: 1195, sender: 39, chat: 1341, text: 'from the bot' },
		]);

		expect(outputs[0].map((item) => item.json.crmEntityType)).toEqual([
			'contact',
			'company',
			'lead',
		]);
		expect(outputs[0].map((item) => item.json.userId)).toEqual([27, 27, 39]);
		expect(emulator.messages).toHaveLength(3);
	});
});

describe.each(SENDING_MODES)(
	'failures, under each On Error setting, sending %s',
	(_mode, options) => {
		const viaWebhook = (items: IDataObject[], extra: Partial<RunOptions>) =>
			viaWebhookIn(options, items, extra);

		// One item goes out, one is refused by Bitrix24, one is invalid and never sent.
		const mixed = [
			lead1195(1341),
			lead1195(1400),
			{ ...lead1195(1341), chat: 'abc', note: 'keep me' },
		];

		const refused = CHAT_1400_REFUSED;

		it('Continue (using error output): failures go to the error output with their input fields', async () => {
			const { outputs, error } = await viaWebhook(mixed, { onError: 'continueErrorOutput' });

			expect(error).toBeUndefined();
			expect(outputs[0]).toHaveLength(1);
			expect(outputs[0][0]).toMatchObject({
				json: { messageId: 19880117, chatId: 1341 },
				pairedItem: { item: 0 },
			});
			expect(outputs[1]).toEqual([
				chatNotInCrmItem(mixed[1], 1),
				invalidArgumentItem(
					mixed[2],
					2,
					'CHAT_ID',
					'The field "Chat" (CHAT_ID) must be a positive whole number, not "abc"',
				),
			]);
			// The invalid item was never sent.
			expect(
				messagesAsked()
					.map((params) => String(params.CHAT_ID))
					.sort(),
			).toEqual(['1341', '1400']);
			expect(emulator.messages).toHaveLength(1);
		});

		it("Continue (using error output): each failure also carries its NodeApiError as the item's error (what n8n 1.x routes by), which never reaches the output", async () => {
			const { outputs, handedOver } = await viaWebhook(mixed, { onError: 'continueErrorOutput' });

			const failures = handedOver[0].filter((item) => 'error' in item.json);
			expect(failures.map((item) => item.pairedItem)).toEqual([{ item: 1 }, { item: 2 }]);
			expect(failures.map((item) => [item.error?.name, item.error?.message])).toEqual([
				['NodeApiError', refused],
				['NodeApiError', failures[1].json.error],
			]);
			expect(failures[0].error?.description).toMatch(
				/dialog an operator has taken.*\(Bitrix24 code CHAT_NOT_IN_CRM, item 1\)$/,
			);
			expect(failures[1].error?.description).toMatch(/\(Bitrix24 code ERROR_ARGUMENT, item 2\)$/);
			// Not enumerable: the engine's copy of the item leaves it out, so the json is not replaced by its message.
			expect(failures.map((item) => Object.keys(item))).toEqual([
				['json', 'pairedItem'],
				['json', 'pairedItem'],
			]);
			expect(outputs[1].map((item) => [Object.keys(item), item.error])).toEqual([
				[['json', 'pairedItem'], undefined],
				[['json', 'pairedItem'], undefined],
			]);
		});

		it('Continue (using error output) with the node run on its own (no input source): n8n merges nothing, and the failure keeps error and details', async () => {
			const { outputs, handedOver } = await viaWebhook(mixed, {
				onError: 'continueErrorOutput',
				alone: true,
			});

			// n8n would keep such an item as it is and replace its json by the error's message.
			expect(handedOver[0].map((item) => item.error)).toEqual([undefined, undefined, undefined]);
			expect(outputs[1].map((item) => item.json)).toEqual([
				{ error: refused, details: expect.objectContaining({ code: 'CHAT_NOT_IN_CRM' }) },
				{
					error: expect.stringContaining('(ERROR_ARGUMENT)'),
					details: expect.objectContaining({ argument: 'CHAT_ID' }),
				},
			]);
		});

		it('Continue (regular output): every item stays on the main output, in order, failures with their input fields', async () => {
			const { outputs, error, handedOver } = await viaWebhook(mixed, {
				onError: 'continueRegularOutput',
			});

			expect(error).toBeUndefined();
			// An item's error would make n8n replace its json by the message.
			expect(handedOver[0].map((item) => item.error)).toEqual([undefined, undefined, undefined]);
			expect(outputs).toHaveLength(1);
			expect(outputs[0].map((item) => item.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 1 },
				{ item: 2 },
			]);
			expect(outputs[0][0].json).toMatchObject({ messageId: 19880117 });
			expect(outputs[0][1].json).toEqual({
				...mixed[1],
				error: refused,
				details: {
					code: 'CHAT_NOT_IN_CRM',
					description: expect.any(String),
					httpStatus: 400,
					method: 'imopenlines.crm.message.add',
					delivery: 'not_sent',
				},
			});
			expect(outputs[0][2].json).toMatchObject({
				...mixed[2],
				details: { code: 'ERROR_ARGUMENT', argument: 'CHAT_ID', httpStatus: null },
			});
			expect(messagesAsked()).toHaveLength(2);
		});

		it('Stop Workflow: the run fails with a NodeApiError carrying the sentence, the code, a hint and the item', async () => {
			const { outputs, error } = await viaWebhook(mixed, { onError: 'stopWorkflow' });

			expect(outputs).toEqual([]);
			expect(error).toBeDefined();
			expect(error?.name).toBe('NodeApiError');
			expect(error?.message).toBe(refused);
			expect(error?.description).toContain('CHAT_NOT_IN_CRM');
			expect(error?.description).toContain('item 1');
			expect(error?.description).toMatch(/dialog an operator has taken/);
			expect((error as unknown as { context: IDataObject }).context.itemIndex).toBe(1);
			expect((error as unknown as { httpCode: string }).httpCode).toBe('400');
		});

		it('Stop Workflow on invalid input fails before anything is sent for that item', async () => {
			const { error } = await viaWebhook([{ ...lead1195(1341), entityId: -3 }], {
				onError: 'stopWorkflow',
			});

			expect(error?.message).toBe(
				'The field "CRM Entity ID" (CRM_ENTITY) must be a positive whole number, not -3 (ERROR_ARGUMENT)',
			);
			expect(error?.description).toContain('ERROR_ARGUMENT');
			expect(messagesAsked()).toHaveLength(0);
		});
	},
);

describe.each(SENDING_MODES)(
	'invalid input is caught per item, before any request, sending %s',
	(_mode, options) => {
		const viaWebhook = (items: IDataObject[], extra: Partial<RunOptions>) =>
			viaWebhookIn(options, items, extra);

		const cases: Array<[string, IDataObject, string]> = [
			['an entity ID that is text', { entityId: 'abc' }, 'CRM_ENTITY'],
			['an entity ID of 0', { entityId: 0 }, 'CRM_ENTITY'],
			['a negative entity ID', { entityId: -3 }, 'CRM_ENTITY'],
			['a fractional entity ID', { entityId: 1.5 }, 'CRM_ENTITY'],
			['an empty entity ID', { entityId: '' }, 'CRM_ENTITY'],
			['a sender that is text', { sender: 'oleg' }, 'USER_ID'],
			['an empty sender', { sender: '' }, 'USER_ID'],
			['a chat of 0', { chat: 0 }, 'CHAT_ID'],
			['a missing chat', { chat: null }, 'CHAT_ID'],
			['an unknown entity type', { type: 'invoice' }, 'CRM_ENTITY_TYPE'],
			['an empty message', { text: '' }, 'MESSAGE'],
			['a whitespace-only message', { text: ' \n\t ' }, 'MESSAGE'],
			['a message over 20,000 characters', { text: 'x'.repeat(20001) }, 'MESSAGE'],
		];

		it.each(cases)(
			'%s fails that item only, with ERROR_ARGUMENT',
			async (_name, change, argument) => {
				const items = [
					lead1195(1341, 'before'),
					{ ...lead1195(1341), ...change },
					lead1195(1341, 'after'),
				];
				const { outputs } = await viaWebhook(items, { onError: 'continueErrorOutput' });

				expect(outputs[0].map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
				expect(outputs[1]).toHaveLength(1);
				expect(outputs[1][0].pairedItem).toEqual({ item: 1 });
				expect(outputs[1][0].json.details).toEqual({
					code: 'ERROR_ARGUMENT',
					description: expect.stringContaining(argument),
					httpStatus: null,
					argument,
					delivery: 'not_sent',
				});
				expect(outputs[1][0].json.error).toMatch(/\(ERROR_ARGUMENT\)$/);
				expect(
					messagesAsked()
						.map((params) => String(params.MESSAGE))
						.sort(),
				).toEqual(['after', 'before']);
				expect(emulator.messages.map((message) => message.message).sort()).toEqual([
					'after',
					'before',
				]);
			},
		);

		it('accepts a message of exactly 20,000 characters, emoji counted as one', async () => {
			const text = '😀'.repeat(20000);
			const { outputs } = await viaWebhook([lead1195(1341, text)], {
				onError: 'continueErrorOutput',
			});

			expect(outputs[1]).toEqual([]);
			expect(emulator.messages[0].message).toBe(text);
		});
	},
);

describe("Bitrix24's answers", () => {
	it('treats an error key in a 200 answer as a failure', async () => {
		emulator.injectFaults([
			{ kind: 'errorIn200', error: 'MESSAGE_ADD_ERROR', errorDescription: 'Message was not added' },
		]);
		const { outputs } = await viaWebhook([lead1195(1341)], { onError: 'continueErrorOutput' });

		expect(outputs[0]).toEqual([]);
		expect(outputs[1][0].json).toMatchObject({
			error: 'Bitrix24 could not post the message to the chat 1341 (MESSAGE_ADD_ERROR)',
			details: { code: 'MESSAGE_ADD_ERROR', description: 'Message was not added', httpStatus: 200 },
		});
	});

	it('fails an item on a non-JSON 502 from a proxy, with its status, without crashing', async () => {
		emulator.injectFaults([{ kind: 'html', status: 502 }]);
		const { outputs } = await viaWebhookIn(
			{ sendInBatches: false },
			[lead1195(1341, 'one'), lead1195(1341, 'two')],
			{
				onError: 'continueErrorOutput',
			},
		);

		expect(outputs[0]).toHaveLength(1);
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json.error).toBe(
			'Bitrix24 answered imopenlines.crm.message.add with something that is not a REST response (HTTP 502) (UNEXPECTED_RESPONSE)',
		);
		// A proxy can answer so after the portal posted the message.
		expect(outputs[1][0].json.details).toMatchObject({
			code: 'UNEXPECTED_RESPONSE',
			httpStatus: 502,
			delivery: 'unknown',
		});
	});

	it.each([
		[500, 'INTERNAL_SERVER_ERROR', 'Bitrix24 had an internal error (INTERNAL_SERVER_ERROR)'],
		[
			503,
			'OVERLOAD_LIMIT',
			"Bitrix24 has blocked the portal's REST API because of overload (OVERLOAD_LIMIT)",
		],
		[403, 'ACCESS_DENIED', 'Bitrix24 denied access to lead 1195 (ACCESS_DENIED)'],
		[
			404,
			'ERROR_METHOD_NOT_FOUND',
			'Bitrix24 does not know the method imopenlines.crm.message.add (ERROR_METHOD_NOT_FOUND)',
		],
		[
			500,
			'PORTAL_DELETED',
			'The Bitrix24 portal is deleted or its public part is closed (PORTAL_DELETED)',
		],
		[418, 'SOMETHING_NEW', 'Bitrix24 returned an error: Injected (SOMETHING_NEW)'],
	])('HTTP %i %s becomes a readable failure', async (status, code, sentence) => {
		emulator.injectFaults([{ kind: 'status', status, error: code, errorDescription: 'Injected' }]);
		const { outputs } = await viaWebhook([lead1195(1341)], { onError: 'continueErrorOutput' });

		expect(outputs[1][0].json).toMatchObject({
			error: sentence,
			details: { code, description: 'Injected', httpStatus: status },
		});
	});

	it('reports a sender who is not a member of the chat (CANCELED)', async () => {
		const { outputs } = await viaWebhook([{ ...lead1195(1341), sender: 31 }], {
			onError: 'continueErrorOutput',
		});

		expect(outputs[1][0].json).toMatchObject({
			error:
				'Bitrix24 refused the message: the sender 31 cannot send messages to the chat 1341 (CANCELED)',
			details: { code: 'CANCELED', httpStatus: 400 },
		});
	});

	it('reports a webhook without the imopenlines scope', async () => {
		const { outputs } = await viaWebhook(
			[lead1195(1341)],
			{ onError: 'continueErrorOutput' },
			emulator.limitedWebhookUrl,
		);

		expect(outputs[1][0].json).toMatchObject({
			error:
				'The Bitrix24 webhook or application lacks the imopenlines permission (insufficient_scope)',
			details: { code: 'insufficient_scope', httpStatus: 401 },
		});
	});

	it('reports a wrong webhook code (401) as a failure of the item, not a crash', async () => {
		const wrong = emulator.webhookUrl.replace(WEBHOOK_CODE, 'wrongcode123');
		const { outputs } = await viaWebhook(
			[lead1195(1341)],
			{ onError: 'continueErrorOutput' },
			wrong,
		);

		expect(outputs[1][0].json).toMatchObject({
			...lead1195(1341),
			error:
				'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated (INVALID_CREDENTIALS)',
			details: { code: 'INVALID_CREDENTIALS', httpStatus: 401, delivery: 'not_sent' },
		});
	});

	it('reports a portal that cannot be reached', async () => {
		const closed = await startEmulator();
		const unreachable = closed.webhookUrl;
		await closed.close();
		const { outputs } = await viaWebhook(
			[lead1195(1341)],
			{ onError: 'continueErrorOutput' },
			unreachable,
		);

		expect(outputs[1][0].json).toMatchObject({
			error: 'Could not reach Bitrix24: the portal refused the connection (CONNECTION_FAILED)',
			details: { code: 'CONNECTION_FAILED', httpStatus: null },
		});
	});
});

describe('batches', () => {
	it('sends 120 items in three batch calls and maps every result back to its own item', async () => {
		const items = Array.from({ length: 120 }, (_, index) => lead1195(1341, `Message ${index}`));
		const { outputs } = await viaWebhook(items, { onError: 'continueErrorOutput' });

		expect(emulator.requests.map((request) => request.restMethod)).toEqual([
			'batch',
			'batch',
			'batch',
		]);
		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((item) => item.pairedItem)).toEqual(
			items.map((_, index) => ({ item: index })),
		);
		const textById = new Map(emulator.messages.map((message) => [message.id, message.message]));
		outputs[0].forEach((item, index) =>
			expect(textById.get(item.json.messageId as number)).toBe(`Message ${index}`),
		);
		expect(new Set(emulator.messages.map((message) => message.message)).size).toBe(120);
		expect(emulator.messages.every((message) => message.viaBatch)).toBe(true);
	});

	it('honours the batch size', async () => {
		const items = Array.from({ length: 25 }, (_, index) => lead1195(1341, `Message ${index}`));
		await viaWebhookIn({ batchSize: 10 }, items);

		expect(
			emulator.requests.map((request) => Object.keys(request.params.cmd as object).length),
		).toEqual([10, 10, 5]);
		expect(emulator.messages).toHaveLength(25);
	});

	it('keeps every character of a message through the batch encoding', async () => {
		const tricky = [
			'Hi & bye = 1 + 1 %20 #x ?a=b [b]bold[/b] [URL=https://example.com/?q=1&r=2]link[/URL]',
			'Line 1\nLine 2\r\n\ttabbed 😀 Привет 你好 "quoted" \'single\' \\ backslash',
			'€'.repeat(20000),
		];
		const { outputs } = await viaWebhook(
			tricky.map((text) => lead1195(1341, text)),
			{ onError: 'continueErrorOutput' },
		);

		expect(emulator.requests.map((request) => request.restMethod)).toEqual(['batch']);
		expect(outputs[1]).toEqual([]);
		const textById = new Map(emulator.messages.map((message) => [message.id, message.message]));
		expect(outputs[0].map((item) => textById.get(item.json.messageId as number))).toEqual(tricky);
	});

	it('gives failed commands the same shape as in per-item mode', async () => {
		const items = [lead1195(1341), lead1195(1400), { ...lead1195(1341), sender: 31 }];
		const batched = await viaWebhook(items, { onError: 'continueErrorOutput' });
		emulator.reset();
		const alone = await viaWebhookIn({ sendInBatches: false }, items, {
			onError: 'continueErrorOutput',
		});

		expect(batched.outputs[1]).toEqual(alone.outputs[1]);
		expect(batched.outputs[1].map((item) => item.json.details)).toEqual([
			{
				code: 'CHAT_NOT_IN_CRM',
				description: 'Chat does not belong to the CRM entity being checked',
				httpStatus: 400,
				method: 'imopenlines.crm.message.add',
				delivery: 'not_sent',
			},
			{
				code: 'CANCELED',
				description: 'You cannot send messages to the specified chat',
				httpStatus: 400,
				method: 'imopenlines.crm.message.add',
				delivery: 'not_sent',
			},
		]);
	});

	it('fails every item of a batch whose call fails, and never resends it', async () => {
		emulator.injectFaults([{ kind: 'dropAfterProcessing' }], { method: 'batch' });
		const items = [lead1195(1341, 'one'), lead1195(1341, 'two'), lead1195(1341, 'three')];
		const { outputs } = await viaWebhook(items, { onError: 'continueErrorOutput' });

		expect(outputs[0]).toEqual([]);
		expect(outputs[1].map((item) => item.json.details)).toEqual(
			items.map(() => ({
				code: 'DELIVERY_UNKNOWN',
				description: 'the connection was closed before Bitrix24 answered',
				httpStatus: null,
				method: 'imopenlines.crm.message.add',
				delivery: 'unknown',
			})),
		);
		// The portal processed the batch once; nothing was sent twice.
		expect(emulator.requests).toHaveLength(1);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual([
			'one',
			'three',
			'two',
		]);
	});

	it('re-sends a batch the rate limit rejected, delivering each message once', async () => {
		emulator.injectFaults(
			[
				{
					kind: 'status',
					status: 503,
					error: 'QUERY_LIMIT_EXCEEDED',
					errorDescription: 'Too many requests',
				},
			],
			{
				method: 'batch',
			},
		);
		const items = [lead1195(1341, 'one'), lead1195(1341, 'two')];
		const { outputs } = await viaWebhook(items, { onError: 'continueErrorOutput' });

		expect(outputs[1]).toEqual([]);
		expect(emulator.requests.map((request) => request.status)).toEqual([503, 200]);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual(['one', 'two']);
	});
});

describe('pacing and safe retries', () => {
	const paced = (
		items: IDataObject[],
		options: INodeParameters,
		budget = { burstLimit: 5, requestsPerSecond: 20 },
		credentials?: TestCredentialsHelper,
	) =>
		runNode({
			credential: {
				type: 'bitrix24WebhookApi',
				data: { webhookUrl: emulator.webhookUrl, ...budget },
			},
			credentials,
			items,
			parameters: { ...MAPPED, options },
			onError: 'continueErrorOutput',
		});
	const standard = { burstLimit: 5, requestsPerSecond: 20 };

	it('delivers 300 items one request each within the portal budget, exactly once, none failed', async () => {
		emulator.setBudget({ burstLimit: 5, requestsPerSecond: 20 });
		const items = Array.from({ length: 300 }, (_, index) => lead1195(1341, `Message ${index}`));
		const { outputs } = await paced(items, { sendInBatches: false });

		expect(outputs[1]).toEqual([]);
		expect(outputs[0]).toHaveLength(300);
		expect(new Set(outputs[0].map((item) => item.json.messageId)).size).toBe(300);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual(
			items.map((item) => item.text).sort(),
		);
		// A loaded machine can bunch requests into a 503 now and then; each extra request is such a refusal
		// re-sent, never a second copy of a message.
		expect(emulator.requests.length - 300).toBe(emulator.state().rejected503);
	}, 60_000);

	it('delivers the same 300 items in batch mode with at most ceil(300 / 50) requests', async () => {
		emulator.setBudget({ burstLimit: 5, requestsPerSecond: 20 });
		const items = Array.from({ length: 300 }, (_, index) => lead1195(1341, `Message ${index}`));
		const { outputs } = await paced(items, {});

		expect(outputs[1]).toEqual([]);
		expect(emulator.requests.length).toBeLessThanOrEqual(6);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual(
			items.map((item) => item.text).sort(),
		);
	});

	it('rides out a storm of 503 QUERY_LIMIT_EXCEEDED from a portal busier than its budget says', async () => {
		// Another integration fills the portal: our budget allows the burst, the portal does not.
		emulator.setBudget({ burstLimit: 3, requestsPerSecond: 20 });
		const items = Array.from({ length: 12 }, (_, index) => lead1195(1341, `Message ${index}`));
		const { outputs } = await paced(
			items,
			{ sendInBatches: false },
			{ burstLimit: 50, requestsPerSecond: 20 },
		);

		expect(emulator.state().rejected503).toBeGreaterThan(0);
		expect(outputs[1]).toEqual([]);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual(
			items.map((item) => item.text).sort(),
		);
	});

	it('gives up after a bounded number of 503s and fails the item with the code', async () => {
		const busy = {
			kind: 'status' as const,
			status: 503,
			error: 'QUERY_LIMIT_EXCEEDED',
			errorDescription: 'Too many requests',
		};
		// Generous under contention (several n8n workers on one portal): 12 attempts in all, then the item fails.
		emulator.injectFaults(Array.from({ length: 12 }, () => busy));
		const { outputs } = await paced([lead1195(1341)], {});

		expect(emulator.requests).toHaveLength(12);
		expect(outputs[1][0].json.details).toMatchObject({
			code: 'QUERY_LIMIT_EXCEEDED',
			httpStatus: 503,
		});
		expect(emulator.messages).toHaveLength(0);
	}, 30_000);

	it('waits for the reset the portal reported before 429 OPERATION_TIME_LIMIT, then sends once', async () => {
		// The same credential across runs, as in n8n: its budget remembers what the portal reported.
		const credentials = new TestCredentialsHelper();
		const resetAt = Math.ceil(Date.now() / 1000) + 2;
		// The portal announces the reset on a success, then refuses the next call.
		emulator.injectFaults(
			[
				{ kind: 'delay', ms: 0 },
				{ kind: 'operationTimeLimit', resetAt },
			],
			{
				method: 'imopenlines.crm.message.add',
			},
		);
		await paced([lead1195(1341, 'reports the reset')], {}, standard, credentials);
		const { outputs } = await paced([lead1195(1341, 'after the limit')], {}, standard, credentials);

		expect(outputs[1]).toEqual([]);
		expect(emulator.requests.map((request) => request.status)).toEqual([200, 429, 200]);
		const retried = emulator.requests[2];
		expect(retried.at).toBeGreaterThanOrEqual(resetAt * 1000);
		// It waited for the reported reset, not for a fixed fallback.
		expect(retried.at).toBeLessThan(resetAt * 1000 + 5000);
		expect(emulator.messages.map((message) => message.message)).toEqual([
			'reports the reset',
			'after the limit',
		]);
	}, 30_000);

	it('fails at once on 429 when the reported reset is further away than the node waits', async () => {
		const credentials = new TestCredentialsHelper();
		emulator.injectFaults(
			[
				{ kind: 'delay', ms: 0 },
				{ kind: 'operationTimeLimit', resetAt: Math.ceil(Date.now() / 1000) + 600 },
			],
			{ method: 'imopenlines.crm.message.add' },
		);
		await paced([lead1195(1341, 'before the limit')], {}, standard, credentials);
		const started = Date.now();
		const { outputs } = await paced([lead1195(1341, 'after the limit')], {}, standard, credentials);

		expect(outputs[1][0].json.details).toMatchObject({
			code: 'OPERATION_TIME_LIMIT',
			httpStatus: 429,
		});
		expect(emulator.requests).toHaveLength(2);
		expect(Date.now() - started).toBeLessThan(5000);
	});

	it('never resends after a 500: the message may have been posted', async () => {
		emulator.injectFaults([
			{
				kind: 'status',
				status: 500,
				error: 'INTERNAL_SERVER_ERROR',
				errorDescription: 'Internal error',
			},
		]);
		const { outputs } = await paced([lead1195(1341)], {});

		expect(emulator.requests).toHaveLength(1);
		expect(outputs[1][0].json.details).toMatchObject({
			code: 'INTERNAL_SERVER_ERROR',
			httpStatus: 500,
		});
	});

	it('fails an item as DELIVERY_UNKNOWN when the connection drops after sending; the portal has it once', async () => {
		emulator.injectFaults([{ kind: 'dropAfterProcessing' }]);
		const { outputs } = await paced(
			[lead1195(1341, 'maybe delivered'), lead1195(1341, 'delivered')],
			{ sendInBatches: false },
		);

		expect(outputs[0]).toHaveLength(1);
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json).toMatchObject({
			error:
				'It is unknown whether the message reached the chat 1341: the connection was closed before Bitrix24 answered (DELIVERY_UNKNOWN)',
			details: { code: 'DELIVERY_UNKNOWN', httpStatus: null },
		});
		expect(emulator.requests).toHaveLength(2);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual([
			'delivered',
			'maybe delivered',
		]);
	});

	it('resends when the connection was refused before anything was sent', async () => {
		const port = Number(new URL(emulator.baseUrl).port);
		await emulator.close();
		const sending = paced([lead1195(1341, 'patient')], {});
		emulator = await startEmulator({ port });
		const { outputs } = await sending;

		expect(outputs[1]).toEqual([]);
		expect(emulator.messages.map((message) => message.message)).toEqual(['patient']);
	}, 30_000);

	it('waits for slow answers instead of resending', async () => {
		emulator.injectFaults([{ kind: 'delay', ms: 1500 }]);
		const { outputs } = await paced([lead1195(1341, 'slow')], {});

		expect(outputs[0]).toHaveLength(1);
		expect(emulator.requests).toHaveLength(1);
		expect(emulator.messages).toHaveLength(1);
	});
});

describe.each(SENDING_MODES)(
	"Send To the CRM entity's active chat, sending %s",
	(mode, options) => {
		const toActiveChat = (items: IDataObject[]) =>
			viaWebhook(items, {
				parameters: {
					...MAPPED,
					chatSource: 'activeChat',
					chatId: { __rl: true, mode: 'id', value: '' },
					options,
				},
				onError: 'continueErrorOutput',
			});

		it("finds each entity's chat in progress at run time and sends there", async () => {
			const { outputs } = await toActiveChat([
				{ type: 'lead', entityId: 1195, sender: 27, text: 'to the lead' },
				{ type: 'deal', entityId: 501, sender: 27, text: 'to the deal' },
				{ type: 'contact', entityId: 77, sender: 27, text: 'to the contact' },
			]);

			expect(outputs[1]).toEqual([]);
			// Lead 1195 also has a finished and a new dialog; only 1341 is in progress.
			expect(outputs[0].map((item) => item.json.chatId)).toEqual([1341, 1500, 1600]);
			expect(emulator.messages.map((message) => [message.chatId, message.message])).toEqual(
				expect.arrayContaining([
					[1341, 'to the lead'],
					[1500, 'to the deal'],
					[1600, 'to the contact'],
				]),
			);
		});

		it('takes the most recent chat in progress when there are several', async () => {
			const newer = { ...emulator.world.chats.find((chat) => chat.id === 1341)!, id: 1390 };
			emulator.world.chats.push(newer);
			const { outputs } = await toActiveChat([
				{ type: 'lead', entityId: 1195, sender: 27, text: 'latest' },
			]);

			expect(outputs[0][0].json.chatId).toBe(1390);
		});

		it('fails an entity without a chat in progress with NO_ACTIVE_CHAT, sending nothing for it', async () => {
			const { outputs } = await toActiveChat([
				{ type: 'lead', entityId: 1197, sender: 27, text: 'nowhere to go' },
				{ type: 'lead', entityId: 1195, sender: 27, text: 'delivered' },
			]);

			expect(outputs[1]).toEqual([
				{
					json: {
						type: 'lead',
						entityId: 1197,
						sender: 27,
						text: 'nowhere to go',
						error: 'Lead 1197 has no open channel chat with a dialog in progress (NO_ACTIVE_CHAT)',
						details: {
							code: 'NO_ACTIVE_CHAT',
							description: 'No chat of this CRM entity has a dialog in progress.',
							httpStatus: null,
							delivery: 'not_sent',
						},
					},
					pairedItem: { item: 0 },
				},
			]);
			expect(messagesAsked().map((params) => params.MESSAGE)).toEqual(['delivered']);
		});

		it('counts the lookups against the budget like any request', async () => {
			const items = Array.from({ length: 10 }, (_, index) => ({
				type: 'lead',
				entityId: 1195,
				sender: 27,
				text: `Message ${index}`,
			}));
			await toActiveChat(items);

			const lookups = emulator.requests.flatMap((request) =>
				request.restMethod === 'batch'
					? Object.values(request.params.cmd as Record<string, string>).map(
							(command) => parseBatchCommand(command).method,
						)
					: [request.restMethod],
			);
			expect(lookups.filter((method) => method === 'imopenlines.crm.chat.get')).toHaveLength(10);
			// One request per call alone; a batch of lookups and a batch of messages otherwise.
			expect(emulator.requests).toHaveLength(mode === 'in batches' ? 2 : 20);
			expect(emulator.messages).toHaveLength(10);
		});
	},
);

describe.each(SENDING_MODES)('Add Sender to Chat, sending %s', (_mode, options) => {
	const notAMember = { ...lead1195(1341, 'from Maria'), sender: 31 };

	it('adds a sender who is not in the chat and sends once more', async () => {
		const { outputs } = await viaWebhook([notAMember, lead1195(1341, 'from Oleg')], {
			parameters: { ...MAPPED, options: { ...options, addSenderToChat: true } },
			onError: 'continueErrorOutput',
		});

		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((item) => item.json.userId)).toEqual([31, 27]);
		expect(emulator.world.chats.find((chat) => chat.id === 1341)?.members).toContain(31);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual([
			'from Maria',
			'from Oleg',
		]);
	});

	it('leaves the sender out of the chat when the option is off', async () => {
		const { outputs } = await viaWebhook([notAMember], {
			parameters: { ...MAPPED, options },
			onError: 'continueErrorOutput',
		});

		expect(outputs[1][0].json.details).toMatchObject({ code: 'CANCELED' });
		expect(emulator.world.chats.find((chat) => chat.id === 1341)?.members).not.toContain(31);
		expect(emulator.messages).toHaveLength(0);
	});
});

describe('webhook URL shapes', () => {
	it.each([
		['with the trailing slash', (url: string) => url],
		['without the trailing slash', (url: string) => url.replace(/\/$/, '')],
		['ending in a method name', (url: string) => `${url}profile.json`],
		['ending in a method name without .json', (url: string) => `${url}user.current`],
		['with surrounding spaces', (url: string) => `  ${url}  `],
	])('accepts the URL %s', async (_name, shape) => {
		const { outputs } = await viaWebhook([lead1195(1341)], {}, shape(emulator.webhookUrl));

		expect(outputs[0][0].json.messageId).toBe(19880117);
		expect(messageAddRequests()[0].path).toBe(
			`/rest/1/${WEBHOOK_CODE}/imopenlines.crm.message.add.json`,
		);
	});

	it.each([
		['not a URL', () => `rest/1/${WEBHOOK_CODE}`, 'is not a valid URL'],
		[
			'of the wrong shape',
			(url: string) => url.replace('/rest/1/', '/api/'),
			'does not have the shape',
		],
		[
			'using http for a public host',
			() => `http://yourcompany.bitrix24.com/rest/1/${WEBHOOK_CODE}/`,
			'http:// for the public host',
		],
	])(
		'fails every item with a clear reason for a URL %s, without echoing it',
		async (_name, shape, reason) => {
			const { outputs } = await viaWebhook(
				[lead1195(1341), lead1195(1341)],
				{ onError: 'continueErrorOutput' },
				shape(emulator.webhookUrl),
			);

			expect(outputs[1]).toHaveLength(2);
			expect(outputs[1][0].json.error).toContain(reason);
			expect(outputs[1][0].json.details).toMatchObject({
				code: 'INVALID_WEBHOOK_URL',
				httpStatus: null,
			});
			expect(JSON.stringify(outputs)).not.toContain(WEBHOOK_CODE);
			expect(emulator.requests).toHaveLength(0);
		},
	);
});

describe('OAuth2', () => {
	function viaOAuth(
		items: IDataObject[],
		tokens: IDataObject,
		credentials?: TestCredentialsHelper,
		onError?: OnError,
	) {
		return runNode({
			// A portal URL with a trailing slash, as people paste it.
			credential: oauthCredential(emulator, tokens, `${emulator.baseUrl}/`),
			credentials,
			items,
			parameters: MAPPED,
			onError,
		});
	}

	it('sends to <portal>/rest with the access token as a Bearer header', async () => {
		const tokens = emulator.issueOAuthTokens();
		const { outputs } = await viaOAuth([lead1195(1341)], { ...tokens });

		expect(outputs[0][0].json.messageId).toBe(19880117);
		const [request] = messageAddRequests();
		expect(request.path).toBe('/rest/imopenlines.crm.message.add.json');
		expect(request.headers.authorization).toBe(`Bearer ${tokens.access_token}`);
		expect(emulator.messages[0].authKind).toBe('oauth');
	});

	it('refreshes an expired token once, sends each item once, and stores the new token', async () => {
		const tokens = emulator.issueOAuthTokens({ expired: true });
		const credentials = new TestCredentialsHelper();
		const items = [lead1195(1341, 'one'), lead1195(1341, 'two'), lead1195(1341, 'three')];
		const { outputs, error } = await viaOAuth(
			items,
			{ ...tokens },
			credentials,
			'continueErrorOutput',
		);

		expect(error).toBeUndefined();
		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
		]);
		expect(emulator.messages.map((message) => message.message).sort()).toEqual([
			'one',
			'three',
			'two',
		]);
		const refreshes = emulator.requests.filter((request) => request.path === '/oauth/token/');
		expect(refreshes).toHaveLength(1);
		expect(refreshes[0].params).toMatchObject({
			grant_type: 'refresh_token',
			client_id: OAUTH_CLIENT_ID,
		});
		const stored = credentials.stored.get(credentials.credentialId)?.oauthTokenData as IDataObject;
		expect(stored.access_token).not.toBe(tokens.access_token);
		expect(stored.refresh_token).not.toBe(tokens.refresh_token);

		// The next run uses the stored token without refreshing again.
		await viaOAuth([lead1195(1341, 'four')], stored, credentials);
		expect(emulator.requests.filter((request) => request.path === '/oauth/token/')).toHaveLength(1);
		expect(emulator.messages).toHaveLength(4);
	});

	it('requests to three chats meet an expired token at once: one of them refreshes it, the others are sent again with the new token', async () => {
		const tokens = emulator.issueOAuthTokens();
		const credentials = new TestCredentialsHelper();
		const credential = oauthCredential(emulator, { ...tokens });
		// A run before, with the token still valid: the credential's budget has seen its requests go through, so it
		// lets several go at once (a fresh one sends one and waits for its answer).
		await runNode({
			credential,
			credentials,
			items: [1, 2, 3].map((index) => ({ ...lead1195(1341, `before ${index}`) })),
			parameters: { ...MAPPED, options: { sendInBatches: false } },
			onError: 'continueErrorOutput',
		});
		const before = messageAddRequests().length;
		emulator.expireAccessTokens();
		// The portal answers the first calls late, so the requests let go at once are all on the way with the old
		// token before any 401 comes back.
		emulator.injectFaults(
			[1, 2, 3].map(() => ({ kind: 'delay', ms: 1000 }) as const),
			{ method: 'imopenlines.crm.message.add' },
		);
		const items = [
			{ type: 'deal', entityId: 501, sender: 27, chat: 1500, text: 'one' },
			{ type: 'contact', entityId: 77, sender: 27, chat: 1600, text: 'two' },
			{ type: 'lead', entityId: 1195, sender: 39, chat: 1341, text: 'three' },
		];
		const { outputs } = await runNode({
			credential,
			credentials,
			items,
			parameters: { ...MAPPED, options: { sendInBatches: false } },
			onError: 'continueErrorOutput',
		});

		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((item) => item.json.messageId)).toEqual(
			['one', 'two', 'three'].map((text) => emulator.messages.find((m) => m.message === text)?.id),
		);
		const refreshes = emulator.requests.filter((request) => request.path === '/oauth/token/');
		expect(refreshes.map((request) => [request.params.refresh_token, request.status])).toEqual([
			[tokens.refresh_token, 200],
		]);
		const stored = credentials.stored.get(credentials.credentialId)?.oauthTokenData as IDataObject;
		const calls = messageAddRequests()
			.slice(before)
			.map((request) => [request.status, request.headers.authorization]);
		// Those on the way met the old token once: one went through n8n's refresh, the others were sent again
		// after it; the rest waited for it. Every message went with the new token, once.
		const refused = calls.filter(([status]) => status === 401);
		expect(refused.length).toBeGreaterThanOrEqual(2);
		expect(refused).toEqual(refused.map(() => [401, `Bearer ${tokens.access_token}`]));
		expect(calls.filter(([status]) => status === 200)).toEqual(
			[1, 2, 3].map(() => [200, `Bearer ${String(stored.access_token)}`]),
		);
		expect(calls).toHaveLength(3 + refused.length);
		expect(
			emulator.messages.filter((m) => ['one', 'two', 'three'].includes(m.message)),
		).toHaveLength(3);
	});

	it('fails every item readably, sending nothing, when the Portal URL is not an address', async () => {
		const tokens = emulator.issueOAuthTokens();
		const { outputs } = await runNode({
			credential: oauthCredential(emulator, tokens, 'yourcompany.bitrix24'),
			items: [lead1195(1341), lead1195(1341)],
			parameters: MAPPED,
			onError: 'continueErrorOutput',
		});

		expect(outputs[1].map((item) => item.json.error)).toEqual([
			'The OAuth2 credential cannot be used: The Portal URL of the OAuth2 credential is not a web address like https://yourcompany.bitrix24.com (INVALID_PORTAL_URL)',
			'The OAuth2 credential cannot be used: The Portal URL of the OAuth2 credential is not a web address like https://yourcompany.bitrix24.com (INVALID_PORTAL_URL)',
		]);
		expect(emulator.requests).toHaveLength(0);
	});

	it('fails the item readably when the refresh token is no longer valid', async () => {
		const tokens = emulator.issueOAuthTokens({ expired: true });
		const { outputs } = await viaOAuth(
			[lead1195(1341)],
			{ ...tokens, refresh_token: 'revoked' },
			undefined,
			'continueErrorOutput',
		);

		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json).toMatchObject({
			error:
				'n8n could not use the Bitrix24 credential: The credential "Bitrix24 test credential" needs to be reconnected. (CREDENTIAL_ERROR)',
			details: { code: 'CREDENTIAL_ERROR', httpStatus: null },
		});
		expect(emulator.messages).toHaveLength(0);
	});
});

describe('secrets', () => {
	it('never puts the webhook code or tokens in outputs, errors or log lines', async () => {
		const items = [lead1195(1341), lead1195(1400), { ...lead1195(1341), chat: 'abc' }];
		const webhookRun = await viaWebhook(items, { onError: 'continueErrorOutput' });
		const stopRun = await viaWebhook(items, { onError: 'stopWorkflow' });
		emulator.injectFaults([{ kind: 'html', status: 502 }]);
		const proxyRun = await viaWebhook(items, { onError: 'continueRegularOutput' });
		const limitedRun = await viaWebhook(
			items,
			{ onError: 'stopWorkflow' },
			emulator.limitedWebhookUrl,
		);
		const tokens = emulator.issueOAuthTokens({ expired: true });
		const oauthRun = await runNode({
			credential: oauthCredential(emulator, tokens),
			items,
			parameters: MAPPED,
			onError: 'stopWorkflow',
		});
		const refreshed = oauthRun.credentials.stored.get(oauthRun.credentials.credentialId)
			?.oauthTokenData as IDataObject;

		const everything = JSON.stringify([
			[webhookRun, stopRun, proxyRun, limitedRun, oauthRun].map(({ run }) => run.data.resultData),
			[stopRun.error, limitedRun.error, oauthRun.error].map((error) => ({
				...error,
				stack: error?.stack,
			})),
			logLines,
		]);
		expect(stopRun.error).toBeDefined();
		expect(limitedRun.error).toBeDefined();
		for (const secret of [
			WEBHOOK_CODE,
			LIMITED_WEBHOOK_CODE,
			OAUTH_CLIENT_SECRET,
			tokens.access_token,
			tokens.refresh_token,
			String(refreshed.access_token),
			String(refreshed.refresh_token),
		]) {
			expect(everything).not.toContain(secret);
		}
	});
});
