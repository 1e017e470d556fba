/**
 * Bot Dialog > Send Message with an attachment (fields.attach): delivered as given alone and in batches, checked
 * before sending (each failure fails its own item, naming the field), and Bitrix24's own refusals explained.
 */
import type { IDataObject } from 'n8n-workflow';

import { BOT_DIALOGS, BOTS, dialogOf, SUPPORT_BOT_TOKEN } from '../../../../tools/emulator';
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

describe.each(SENDING_MODES)(
	"an attachment's keys cannot reach other parameters, sending %s (issue 20)",
	(_mode, botOptions) => {
		const other = () => botMessages(BOT_DIALOGS.WITH_BOT_TELEGRAM).map((m) => m.text);

		it('the key X&dialogId=chat2002&Y fails its item, naming the field and the key; the other item lands in 2001', async () => {
			const injected =
				'[{"LINK":{"NAME":"Order","LINK":"https://shop.example.com/1","X&dialogId=chat2002&Y":"z"}}]';
			const before = other();
			const { outputs } = await runBot(emulator, 'sendMessage', { ...MAPPED, botOptions }, [
				item(injected, 'meant for 2001'),
				item(undefined, 'also for 2001'),
			]);

			expect(outputs[1].map((i) => i.json)).toEqual([
				expect.objectContaining({
					error: expect.stringContaining(
						'"Attachment (JSON)" (attach) is invalid at [0].LINK: unknown key "X&dialogId=chat2002&Y"',
					),
					details: expect.objectContaining({ code: 'ERROR_ARGUMENT', delivery: 'not_sent' }),
				}),
			]);
			expect(outputs[0].map((i) => i.json)).toEqual([
				expect.objectContaining({
					chatId: BOT_DIALOGS.WITH_BOT,
					dialogId: 'chat2001',
					messageId: lastBotMessage()?.id,
				}),
			]);
			expect(lastBotMessage()?.text).toBe('also for 2001');
			expect(other()).toEqual(before);
			expect(askedFor(emulator, SEND).map((p) => p.dialogId)).toEqual(['chat2001']);
		});

		it('a # in a key fails its item before anything is sent; the bot token still goes with the other item', async () => {
			const { outputs } = await runBot(emulator, 'sendMessage', { ...MAPPED, botOptions }, [
				item([{ IMAGE: [{ LINK: '/a.png', 'A#B': 'z' }] }], 'first'),
				item(undefined, 'second'),
			]);

			expect(outputs[1][0].json.error).toContain('is invalid at [0].IMAGE[0]: unknown key "A#B"');
			expect(outputs[0].map((i) => i.json.messageId)).toEqual([lastBotMessage()?.id]);
			expect(askedFor(emulator, SEND).map((p) => [p.fields, p.botToken])).toEqual([
				[{ message: 'second' }, SUPPORT_BOT_TOKEN],
			]);
		});
	},
);

describe("an attachment's fields are checked against each block's schema", () => {
	it('every documented field of every block type passes and arrives as given', async () => {
		const blocks = [
			{
				LINK: {
					LINK: 'https://x.example/1',
					NAME: 'n',
					DESC: 'd',
					HTML: '<b>h</b>',
					PREVIEW: '/p.png',
					WIDTH: 100,
					HEIGHT: 50,
					USER_ID: 1,
					CHAT_ID: 2,
					NETWORK_ID: 'net',
				},
			},
			{
				USER: {
					NAME: 'Oleg',
					AVATAR: '/a.png',
					LINK: '/u/27/',
					USER_ID: 27,
					CHAT_ID: 3,
					BOT_ID: 39,
					NETWORK_ID: 'n',
					AVATAR_TYPE: 'USER',
				},
			},
			{
				GRID: [
					{
						DISPLAY: 'ROW',
						NAME: 'a',
						VALUE: 'b',
						WIDTH: 1,
						HEIGHT: 2,
						COLOR_TOKEN: 'alert',
						COLOR: '#fff',
						LINK: '/g',
						USER_ID: 1,
						CHAT_ID: 2,
					},
				],
			},
			{ IMAGE: [{ LINK: '/i.png', NAME: 'i', PREVIEW: '/t.png', WIDTH: 1, HEIGHT: 1 }] },
			{ FILE: [{ LINK: '/f.pdf', NAME: 'f.pdf', SIZE: 1024 }] },
			{ DELIMITER: { SIZE: 200, COLOR: '#ccc' } },
		];
		const { outputs } = await runBot(emulator, 'sendMessage', MAPPED, [item(blocks)]);

		expect(outputs[1]).toEqual([]);
		expect(askedFor(emulator, SEND)[0].fields).toMatchObject({ attach: expect.any(Object) });
		expect(lastBotMessage()?.attach).toBeDefined();
	});

	it.each([
		[
			'an unknown key in a LINK block',
			[{ LINK: { LINK: '/a', TITLE: 'x' } }],
			'at [0].LINK: unknown key "TITLE" (the fields of LINK: LINK, NAME, DESC',
		],
		['a lower-case key', [{ USER: { NAME: 'a', link: '/u' } }], 'at [0].USER: unknown key "link"'],
		[
			'an unknown key in a grid line',
			{ BLOCKS: [{ GRID: [{ DISPLAY: 'ROW', SIZE: 1 }] }] },
			'at BLOCKS[0].GRID[0]: unknown key "SIZE"',
		],
		[
			'a key of another block type',
			[{ FILE: [{ LINK: '/f', WIDTH: 1 }] }],
			'at [0].FILE[0]: unknown key "WIDTH"',
		],
		[
			'a key with brackets',
			[{ DELIMITER: { 'SIZE][x': 1 } }],
			'at [0].DELIMITER: unknown key "SIZE][x"',
		],
		[
			'a list as a value',
			[{ LINK: { LINK: '/a', NAME: ['a'] } }],
			'at [0].LINK.NAME: expected text or a number, got ["a"]',
		],
		[
			'an object as a value',
			[{ IMAGE: [{ LINK: '/a', NAME: { a: 1 } }] }],
			'at [0].IMAGE[0].NAME: expected text or a number',
		],
		[
			'true as a value',
			[{ DELIMITER: { SIZE: true } }],
			'at [0].DELIMITER.SIZE: expected text or a number, got true',
		],
		[
			'a list as the COLOR',
			{ COLOR: [], BLOCKS: [{ MESSAGE: 'x' }] },
			'at COLOR: expected text or a number',
		],
		[
			'half of an emoji in a text',
			[{ MESSAGE: 'ok \uD83D' }],
			'at [0].MESSAGE: has half of an emoji or other character at position 4',
		],
		[
			'half of an emoji in a field',
			[{ LINK: { LINK: '/a', NAME: '\uDE00' } }],
			'at [0].LINK.NAME: has half of an emoji',
		],
	])('%s fails its item, naming the field and the key', async (_case, attach, problem) => {
		const { outputs } = await runBot(emulator, 'sendMessage', MAPPED, [item(attach)]);

		expect(outputs[1][0].json.error).toContain(
			`"Attachment (JSON)" (attach) is invalid ${problem}`,
		);
		expect(askedFor(emulator, SEND)).toHaveLength(0);
	});
});

describe('a button with half of an emoji fails its item, naming the button', () => {
	it.each(SENDING_MODES)('sending %s', async (_mode, botOptions) => {
		const { outputs } = await runBot(
			emulator,
			'sendMessage',
			{
				...REPLY,
				botOptions,
				buttons: { button: [{ text: 'ok', value: '={{ $json.value }}' }] },
			},
			[{ chatId: BOT_DIALOGS.WITH_BOT, text: 'hi', value: 'cut \uD83D' }],
		);

		expect(outputs[1][0].json.error).toContain(
			'The field "Buttons > Button 1" (keyboard) has half of an emoji or other character (the text was probably cut inside it)',
		);
		expect(askedFor(emulator, SEND)).toHaveLength(0);
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
