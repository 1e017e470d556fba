import { Expression, type IDataObject, type INodeParameters } from 'n8n-workflow';

import { postsAsked } from '../../../tools/emulator';
import {
	MAPPED_PARAMETERS,
	runNode,
	SENDING_MODES,
	type RunOptions,
} from '../../../tools/harness/runWorkflow';
import { chatNotInCrmItem, invalidArgumentItem } from '../../../tools/harness/expectedItems';
import { useEmulator } from '../../../tools/harness/useEmulator';

/** Input: Take From Input Fields, with the default field names. */
const FROM_FIELDS: INodeParameters = { input: 'inputFields' };

const lead1195 = (chatId: unknown, message = `Hello chat ${String(chatId)}`): IDataObject => ({
	crmEntityType: 'lead',
	crmEntityId: 1195,
	userId: 27,
	chatId: chatId as IDataObject[string],
	message,
});

const emulator = useEmulator();

/** Runs the node on the items with Input: Take From Input Fields (failures on the error output unless told). */
function fromFields(items: IDataObject[], extra: Partial<RunOptions> = {}, options = {}) {
	return runNode({
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emulator.webhookUrl } },
		items,
		onError: 'continueErrorOutput',
		...extra,
		parameters: { ...FROM_FIELDS, options, ...extra.parameters },
	});
}

const messagesAsked = () => postsAsked(emulator.requests);

describe('Input: Take From Input Fields', () => {
	it('sends one message per item from its fields and returns each message ID paired to its item', async () => {
		const { outputs, error } = await fromFields([
			lead1195(1341, 'First'),
			{ ...lead1195('1341', 'Second'), crmEntityId: '1195', userId: '27', crmEntityType: 'Lead' },
		]);

		expect(error).toBeUndefined();
		expect(outputs[1]).toEqual([]);
		expect(outputs[0]).toEqual([
			{
				json: {
					messageId: 19880117,
					chatId: 1341,
					crmEntityType: 'lead',
					crmEntityId: 1195,
					userId: 27,
				},
				pairedItem: { item: 0 },
			},
			{
				json: {
					messageId: 19880118,
					chatId: 1341,
					crmEntityType: 'lead',
					crmEntityId: 1195,
					userId: 27,
				},
				pairedItem: { item: 1 },
			},
		]);
		// Posted in one batch call, where every value travels as text.
		expect(messagesAsked()).toEqual([
			{
				CRM_ENTITY_TYPE: 'lead',
				CRM_ENTITY: '1195',
				USER_ID: '27',
				CHAT_ID: '1341',
				MESSAGE: 'First',
			},
			{
				CRM_ENTITY_TYPE: 'lead',
				CRM_ENTITY: '1195',
				USER_ID: '27',
				CHAT_ID: '1341',
				MESSAGE: 'Second',
			},
		]);
	});

	it('reads the fields the user names instead of the defaults', async () => {
		const { outputs } = await fromFields(
			[{ kind: 'deal', dealId: 501, operator: 27, chat: 1500, text: 'Your deal moved' }],
			{
				parameters: {
					crmEntityTypeField: 'kind',
					crmEntityIdField: 'dealId',
					userIdField: 'operator',
					chatIdField: 'chat',
					messageField: ' text ',
				},
			},
		);

		expect(outputs[1]).toEqual([]);
		expect(outputs[0][0].json).toMatchObject({
			chatId: 1500,
			crmEntityType: 'deal',
			crmEntityId: 501,
		});
		expect(emulator.messages.map((message) => message.message)).toEqual(['Your deal moved']);
	});

	it('evaluates no expression per item, where the node’s own fields evaluate five', async () => {
		const evaluated = jest.spyOn(Expression.prototype, 'resolveSimpleParameterValue');
		try {
			const items = Array.from({ length: 20 }, (_, index) => lead1195(1341, `Message ${index}`));
			await fromFields(items);
			const fromInputFields = evaluated.mock.calls.length;
			evaluated.mockClear();
			await runNode({
				credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emulator.webhookUrl } },
				items: items.map((item) => ({
					type: 'lead',
					entityId: 1195,
					sender: 27,
					chat: 1341,
					text: item.message,
				})),
				parameters: MAPPED_PARAMETERS,
			});

			expect(fromInputFields).toBe(0);
			expect(evaluated.mock.calls.length).toBeGreaterThanOrEqual(20 * 5);
			expect(emulator.messages).toHaveLength(40);
		} finally {
			evaluated.mockRestore();
		}
	});

	it('ignores expressions left in the hidden fields of Define Below', async () => {
		const { outputs } = await fromFields([lead1195(1341)], {
			parameters: { crmEntityId: '={{ $json.missing.deeper }}', message: '={{ "not this" }}' },
		});

		expect(outputs[1]).toEqual([]);
		expect(emulator.messages.map((message) => message.message)).toEqual(['Hello chat 1341']);
	});

	it("sends to each CRM entity's active chat, without a chat field", async () => {
		const { outputs } = await fromFields(
			[
				{ crmEntityType: 'lead', crmEntityId: 1195, userId: 27, message: 'to the lead' },
				{ crmEntityType: 'deal', crmEntityId: 501, userId: 27, message: 'to the deal' },
			],
			{ parameters: { chatSource: 'activeChat' } },
		);

		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((item) => item.json.chatId)).toEqual([1341, 1500]);
	});
});

describe.each(SENDING_MODES)('Input: Take From Input Fields, sending %s', (_mode, options) => {
	// One item goes out, one is refused by Bitrix24, one is invalid and one lacks a field: neither is sent.
	const mixed = [
		lead1195(1341),
		lead1195(1400),
		{ ...lead1195(1341), chatId: 'abc', note: 'keep me' },
		{ crmEntityType: 'lead', crmEntityId: 1195, userId: 27, message: 'no chat' },
	];

	it('Continue (using error output): failures go to the error output with their input fields, each naming its field', async () => {
		const { outputs, error } = await fromFields(mixed, {}, options);

		expect(error).toBeUndefined();
		expect(outputs[0]).toEqual([
			{
				json: {
					messageId: 19880117,
					chatId: 1341,
					crmEntityType: 'lead',
					crmEntityId: 1195,
					userId: 27,
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(outputs[1]).toEqual([
			chatNotInCrmItem(mixed[1], 1),
			invalidArgumentItem(
				mixed[2],
				2,
				'CHAT_ID',
				'The input field "chatId" (CHAT_ID) must be a positive whole number, not "abc"',
			),
			invalidArgumentItem(
				mixed[3],
				3,
				'CHAT_ID',
				'The input field "chatId" (CHAT_ID) is not in the item: enter the name of the field that holds it',
			),
		]);
		expect(
			messagesAsked()
				.map((params) => String(params.CHAT_ID))
				.sort(),
		).toEqual(['1341', '1400']);
		expect(emulator.messages).toHaveLength(1);
	});

	it('Continue (regular output): every item stays on the main output, in order', async () => {
		const { outputs } = await fromFields(mixed, { onError: 'continueRegularOutput' }, options);

		expect(outputs).toHaveLength(1);
		expect(outputs[0].map((item) => item.pairedItem)).toEqual(mixed.map((_, item) => ({ item })));
		expect(outputs[0].map((item) => (item.json.details as IDataObject)?.code)).toEqual([
			undefined,
			'CHAT_NOT_IN_CRM',
			'ERROR_ARGUMENT',
			'ERROR_ARGUMENT',
		]);
		expect(outputs[0][2].json).toMatchObject({ note: 'keep me' });
	});

	it('Stop Workflow on invalid input names the input field and sends nothing for that item', async () => {
		const { error } = await fromFields(
			[{ ...lead1195(1341), crmEntityId: -3 }],
			{ onError: 'stopWorkflow' },
			options,
		);

		expect(error?.message).toBe(
			'The input field "crmEntityId" (CRM_ENTITY) must be a positive whole number, not -3 (ERROR_ARGUMENT)',
		);
		expect(error?.description).toContain('item 0');
		expect(messagesAsked()).toHaveLength(0);
	});

	it('keeps input order per chat and sends every message exactly once', async () => {
		const items = Array.from({ length: 40 }, (_, index) =>
			lead1195(index % 2 ? 1341 : 1500, `Message ${index}`),
		).map((item, index) =>
			index % 2 ? item : { ...item, crmEntityType: 'deal', crmEntityId: 501 },
		);
		const { outputs } = await fromFields(items, {}, options);

		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((item) => item.pairedItem)).toEqual(items.map((_, item) => ({ item })));
		for (const chat of [1341, 1500]) {
			expect(
				emulator.messages
					.filter((message) => message.chatId === chat)
					.map((message) => message.message),
			).toEqual(items.filter((item) => item.chatId === chat).map((item) => item.message));
		}
	});
});

describe("n8n's Request Options > Batching (RoutingNode pauses between groups of items)", () => {
	it('sends what each group gathered at its pause, every message once and in order', async () => {
		const items = Array.from({ length: 120 }, (_, index) => lead1195(1341, `Message ${index}`));
		const { outputs } = await fromFields(items, {
			parameters: { requestOptions: { batching: { batch: { batchSize: 30, batchInterval: 1 } } } },
		});

		// Without the pauses the 120 calls gather in one tick: batches of 50, 50 and 20.
		expect(
			emulator.requests.map((request) => Object.keys(request.params.cmd as object).length),
		).toEqual([30, 30, 30, 30]);
		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((item) => item.pairedItem)).toEqual(items.map((_, item) => ({ item })));
		expect(emulator.messages.map((message) => message.message)).toEqual(
			items.map((item) => item.message),
		);
	});
});
