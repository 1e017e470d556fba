/**
 * End-to-end in a real n8n of each line: Send Message with Input = Take From Input Fields (no expression per item),
 * the packed package installed as a community package, run with `n8n execute` against the portal emulator.
 */
import { timesAsked, type Emulator } from '../../tools/emulator';
import { outputItems, type JsonObject } from '../../tools/n8n/runner';
import {
	NODES,
	exampleVariant,
	exampleWebhookCredential,
	webhookCredential,
} from '../../tools/n8n/workflows';
import { linesUnderTest, openLine, printTimings, timed, type LineContext } from './support/harness';

const WEBHOOK = exampleWebhookCredential();

/** Items under the default field names: three go out, one is refused, one is invalid, one lacks its message. */
const ITEMS: JsonObject[] = [
	{ crmEntityType: 'deal', crmEntityId: 501, userId: 27, chatId: 1500, message: 'Order shipped' },
	{
		crmEntityType: 'lead',
		crmEntityId: 1195,
		userId: 27,
		chatId: 1342,
		message: 'Finished dialog',
	},
	{ crmEntityType: 'lead', crmEntityId: 'abc', userId: 27, chatId: 1341, message: 'Broken ID' },
	{ crmEntityType: 'Contact', crmEntityId: '77', userId: '27', chatId: '1600', message: 'Paid' },
	{ crmEntityType: 'lead', crmEntityId: 1195, userId: 27, chatId: 1341, note: 'no message field' },
	{ crmEntityType: 'lead', crmEntityId: 1195, userId: 39, chatId: 1341, message: 'Call at 3 pm' },
];

const SENT = [0, 3, 5];

afterAll(() => printTimings());

describe.each(linesUnderTest())('real n8n %s, Input: Take From Input Fields', (line) => {
	let ctx: LineContext;
	let emulator: Emulator;

	beforeAll(async () => {
		ctx = await timed(`${line}: open n8n`, async () => await openLine(line));
		emulator = ctx.emulator;
		await ctx.session.importCredentials([webhookCredential(WEBHOOK, emulator.webhookUrl)]);
		await ctx.session.importWorkflows(
			[{}, { sendInBatches: false }].map((options, index) =>
				exampleVariant({
					id: `e2eInputFields${index}`,
					name: `e2e: Take From Input Fields ${index}`,
					items: ITEMS,
					parameters: {
						input: 'inputFields',
						crmEntityType: undefined,
						crmEntityId: undefined,
						userId: undefined,
						chatId: undefined,
						message: undefined,
						options,
					},
				}),
			),
		);
	});

	afterAll(async () => {
		await ctx?.close();
	});

	beforeEach(() => emulator.reset());

	test.each([
		['batched', 0],
		['one request per message', 1],
	])(
		'%s: every good item is posted exactly once, paired; failures leave on the error output naming the field',
		async (label, index) => {
			const result = await timed(
				`${line}: Take From Input Fields, ${label}`,
				async () => await ctx.session.execute(`e2eInputFields${index}`),
			);
			expect(result.exitCode).toBe(0);

			const sent = SENT.map((i) => ITEMS[i] as JsonObject);
			expect([...timesAsked(emulator.requests).entries()].sort()).toEqual(
				[...sent, ITEMS[1] as JsonObject].map((item) => [item.message, 1]).sort(),
			);
			expect(emulator.messages.map((message) => message.message).sort()).toEqual(
				sent.map((item) => item.message).sort(),
			);
			expect(outputItems(result, NODES.bitrix24, 0)).toEqual(
				sent.map((item) => ({
					messageId: emulator.messages.find((message) => message.message === item.message)?.id,
					chatId: Number(item.chatId),
					crmEntityType: String(item.crmEntityType).toLowerCase(),
					crmEntityId: Number(item.crmEntityId),
					userId: Number(item.userId),
				})),
			);
			const failed = outputItems(result, NODES.bitrix24, 1);
			expect(failed.map(({ error, details, ...input }) => [input, error, details])).toEqual([
				[
					ITEMS[1],
					expect.stringMatching(/\(CHAT_NOT_IN_CRM\)$/),
					expect.objectContaining({ code: 'CHAT_NOT_IN_CRM', delivery: 'not_sent' }),
				],
				[
					ITEMS[2],
					'The input field "crmEntityId" (CRM_ENTITY) must be a positive whole number, not "abc" (ERROR_ARGUMENT)',
					expect.objectContaining({ argument: 'CRM_ENTITY', httpStatus: null }),
				],
				[
					ITEMS[4],
					'The input field "message" (MESSAGE) is not in the item: enter the name of the field that holds it (ERROR_ARGUMENT)',
					expect.objectContaining({ argument: 'MESSAGE', delivery: 'not_sent' }),
				],
			]);
		},
	);
});
