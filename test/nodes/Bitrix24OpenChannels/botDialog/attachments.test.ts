/**
 * Bot Dialog > Send Message with an attachment (fields.attach): delivered as given alone and in batches, checked
 * before sending (each failure fails its own item, naming the field), and Bitrix24's own refusals explained.
 */
import type { IDataObject } from 'n8n-workflow';

import { BOT_DIALOGS, BOTS, dialogOf } from '../../../../tools/emulator';
import { SENDING_MODES } from '../../../../tools/harness/runWorkflow';
import { useEmulator } from '../../../../tools/harness/useEmulator';
import { askedFor, callsOf, REPLY, runBot } from './botRun';

const SEND = 'imbot.v2.Chat.Message.send';
const emulator = useEmulator();

const botMessages = (chatId: number) =>
	(dialogOf(emulator.world, chatId)?.messages ?? []).filter((m) => m.authorId === BOTS.SUPPORT_BOT);
const lastBotMessage = (chatId: number = BOT_DIALOGS.WITH_BOT) => botMessages(chatId).at(-1);

/** The attachment from the item (`attach`), as a workflow maps it from an earlier node. */
const MAPPED = { ...REPLY, attachment: '={{ $json.attach }}' };
const item = (
	attach: unknown,
	text: unknown = 'Your order',
	chatId: number = BOT_DIALOGS.WITH_BOT,
) => ({ chatId, text, attach }) as IDataObject;

const CARD = {
	COLOR_TOKEN: 'primary',
	BLOCKS: [
		{ MESSAGE: 'Order [b]#1045[/b] & co: 100% ready' },
		{ LINK: { NAME: 'Track it', LINK: 'https://shop.example.com/track?id=1045&x=ü' } },
		{ IMAGE: [{ LINK: 'https://shop.example.com/1045.jpg', NAME: 'Parcel' }] },
		{ GRID: [{ DISPLAY: 'LINE', NAME: 'Total', VALUE: '€ 42' }] },
		{ USER: { NAME: 'Oleg', LINK: '/company/personal/user/27/' } },
		{ FILE: [{ LINK: '/upload/invoice.pdf', NAME: 'Invoice' }] },
		{ DELIMITER: { COLOR: '#c8c8c8' } },
	],
};

describe.each(SENDING_MODES)('an attachment arrives as given, sending %s', (_mode, botOptions) => {
	it('typed as JSON in the field (full form), beside the text', async () => {
		const { outputs } = await runBot(
			emulator,
			'sendMessage',
			{ ...REPLY, botOptions, attachment: JSON.stringify(CARD, null, 2) },
			[item(undefined), item(undefined, 'second', BOT_DIALOGS.WITH_BOT_TELEGRAM)],
		);

		expect(outputs[0]).toHaveLength(2);
		expect(lastBotMessage()).toMatchObject({ text: 'Your order', attach: CARD });
		expect(lastBotMessage(BOT_DIALOGS.WITH_BOT_TELEGRAM)).toMatchObject({ attach: CARD });
		expect(emulator.requests).toHaveLength(botOptions.sendInBatches === false ? 2 : 1);
	});

	it('mapped from the item as a bare list of blocks, with no text', async () => {
		const blocks = [{ IMAGE: [{ LINK: 'https://shop.example.com/a.png' }] }];
		const { outputs } = await runBot(emulator, 'sendMessage', { ...MAPPED, botOptions }, [
			item(blocks, ''),
		]);

		expect(outputs[0][0].json).toMatchObject({ messageId: lastBotMessage()?.id });
		expect(lastBotMessage()).toMatchObject({ text: '', attach: { BLOCKS: blocks } });
		expect(askedFor(emulator, SEND).map((p) => p.fields)).toEqual([{ attach: blocks }]);
	});

	it('text a batch would rewrite ($result[...]) goes alone and arrives unchanged', async () => {
		const blocks = [{ MESSAGE: 'Pay $result[total] today' }];
		const plain = [{ MESSAGE: 'plain' }];
		await runBot(emulator, 'sendMessage', { ...MAPPED, botOptions }, [
			item(blocks),
			item(plain, 'other', BOT_DIALOGS.WITH_BOT_TELEGRAM),
			item(plain, 'another', BOT_DIALOGS.WITH_BOT_TELEGRAM),
		]);

		expect(lastBotMessage()?.attach).toEqual({ BLOCKS: blocks });
		expect(botMessages(BOT_DIALOGS.WITH_BOT_TELEGRAM).map((m) => m.attach)).toEqual([
			{ BLOCKS: plain },
			{ BLOCKS: plain },
		]);
		// The rewritable call went as itself; the other two shared a batch call.
		expect(callsOf(emulator, SEND)).toHaveLength(botOptions.sendInBatches === false ? 3 : 1);
		expect(emulator.requests).toHaveLength(botOptions.sendInBatches === false ? 3 : 2);
	});
});

/** An attachment just over 60,000 characters as PHP serializes it (its text alone is 59,950). */
const OVERSIZE = [{ MESSAGE: 'ü'.repeat(59_950) }];

describe('a bad attachment fails its own item, naming the field; nothing is sent for it', () => {
	it.each([
		['invalid JSON', '[{"MESSAGE": "x"', 'is not valid JSON'],
		['a number', 42, 'must be a JSON object or list of blocks'],
		['a lower-case key', { blocks: [{ MESSAGE: 'x' }] }, 'has an unknown key "blocks"'],
		['no blocks', { COLOR_TOKEN: 'primary' }, 'has no blocks'],
		['an unknown colour token', { COLOR_TOKEN: 'red', BLOCKS: [{ MESSAGE: 'x' }] }, 'COLOR_TOKEN'],
		['a block with two keys', [{ MESSAGE: 'x', LINK: { LINK: '/a' } }], 'exactly one key'],
		[
			'an unknown block type',
			[{ VIDEO: { LINK: 'https://x.example/v' } }],
			'unknown block type "VIDEO"',
		],
		['an empty text block', [{ MESSAGE: ' ' }], 'at [0].MESSAGE: expected text'],
		[
			'an image without its link',
			[{ IMAGE: [{ NAME: 'x' }] }],
			'at [0].IMAGE[0]: LINK is required',
		],
		['an image block that is not a list', [{ IMAGE: { LINK: '/a.png' } }], 'expected a list'],
		[
			'a link that is neither http(s) nor root-relative',
			[{ LINK: { LINK: 'javascript:alert(1)' } }],
			'at [0].LINK.LINK: needs a link starting with https://, http:// or /',
		],
		[
			'a relative link without the leading slash',
			{ BLOCKS: [{ FILE: [{ LINK: 'upload/x.pdf' }] }] },
			'at BLOCKS[0].FILE[0].LINK',
		],
		['a grid line without DISPLAY', [{ GRID: [{ NAME: 'a', VALUE: 'b' }] }], 'DISPLAY is required'],
		['a grid with an unknown DISPLAY', [{ GRID: [{ DISPLAY: 'COLUMN' }] }], 'must be one of BLOCK'],
		['more than 60,000 characters serialized', OVERSIZE, 'Bitrix24 accepts at most 60,000'],
	])('%s', async (_case, attach, problem) => {
		const bad = item(attach);
		const { outputs } = await runBot(emulator, 'sendMessage', MAPPED, [
			bad,
			item([{ MESSAGE: 'fine' }], 'ok', BOT_DIALOGS.WITH_BOT_TELEGRAM),
		]);

		expect(outputs[0].map((i) => i.json.chatId)).toEqual([BOT_DIALOGS.WITH_BOT_TELEGRAM]);
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json).toMatchObject({
			...bad,
			error: expect.stringContaining('"Attachment (JSON)" (attach)'),
			details: {
				code: 'ERROR_ARGUMENT',
				argument: 'attach',
				httpStatus: null,
				delivery: 'not_sent',
			},
		});
		expect(outputs[1][0].json.error).toContain(problem);
		expect(askedFor(emulator, SEND)).toHaveLength(1);
		expect(botMessages(BOT_DIALOGS.WITH_BOT).map((m) => m.text)).not.toContain('Your order');
	});

	it('the oversize limit counts as Bitrix24 stores it: just under passes', async () => {
		await runBot(emulator, 'sendMessage', MAPPED, [item([{ MESSAGE: 'ü'.repeat(59_900) }])]);
		expect(lastBotMessage()?.attach).toBeDefined();
	});

	it('an attachment with a text that is missing or null: sent without text', async () => {
		const blocks = [{ MESSAGE: 'only the card' }];
		const { outputs } = await runBot(emulator, 'sendMessage', MAPPED, [
			{ chatId: BOT_DIALOGS.WITH_BOT, attach: blocks },
			item(blocks, null),
		]);

		expect(outputs[0]).toHaveLength(2);
		expect(
			botMessages(BOT_DIALOGS.WITH_BOT)
				.slice(-2)
				.map((m) => [m.text, m.attach]),
		).toEqual([
			['', { BLOCKS: blocks }],
			['', { BLOCKS: blocks }],
		]);
		expect(askedFor(emulator, SEND).map((p) => Object.keys(p.fields as object))).toEqual([
			['attach'],
			['attach'],
		]);
	});

	it('neither text nor attachment: the Text field is named', async () => {
		const { outputs } = await runBot(emulator, 'sendMessage', MAPPED, [item('', ' ')]);
		expect(outputs[1][0].json.error).toContain('"Text" (message) is empty');
		expect(askedFor(emulator, SEND)).toHaveLength(0);
	});
});

describe("Bitrix24's own attachment refusals get a sentence, a hint and the verdict", () => {
	it.each([
		['ATTACH_ERROR', 'Incorrect attach params', 'Bitrix24 could not read the attachment'],
		[
			'ATTACH_OVERSIZE',
			'You have exceeded the maximum allowable size of attach',
			'Bitrix24 refused the attachment as too large',
		],
		['EMPTY_MESSAGE', "Message can't be empty", 'Bitrix24 refused an empty message'],
	])('%s', async (code, errorDescription, sentence) => {
		emulator.injectFaults([{ kind: 'status', status: 400, error: code, errorDescription }]);
		const { outputs } = await runBot(emulator, 'sendMessage', MAPPED, [item([{ MESSAGE: 'x' }])]);

		expect(outputs[1][0].json).toMatchObject({
			error: `${sentence} (${code})`,
			details: { code, httpStatus: 400, method: SEND, delivery: 'not_sent' },
		});
	});
});
