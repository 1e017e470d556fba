/** fields.attach of imbot.v2.Chat.Message.send over real HTTP: stored with the message, or ATTACH_ERROR / OVERSIZE. */
import { BOT_DIALOGS, BOTS, dialogOf, SUPPORT_BOT_TOKEN } from '../../../tools/emulator';
import { obj, postJson, request } from '../../../tools/emulator/testClient';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emu = useEmulator();
const SEND = 'imbot.v2.Chat.Message.send';
const asBot = {
	botId: BOTS.SUPPORT_BOT,
	botToken: SUPPORT_BOT_TOKEN,
	dialogId: `chat${BOT_DIALOGS.WITH_BOT}`,
};
const send = (fields: unknown) => postJson(`${emu.webhookUrl}${SEND}`, { ...asBot, fields });
const lastMessage = () => dialogOf(emu.world, BOT_DIALOGS.WITH_BOT)?.messages.at(-1);
const BLOCKS = [{ LINK: { NAME: 'Track', LINK: 'https://shop.example.com/t' } }];

describe('imbot.v2.Chat.Message.send with fields.attach', () => {
	it.each([
		['a bare list of blocks', BLOCKS],
		['the full form', { COLOR_TOKEN: 'primary', BLOCKS }],
		['JSON text', JSON.stringify(BLOCKS)],
	])('stores %s in the full form; no text needed', async (_case, attach) => {
		const res = await send({ attach });

		expect(res.status).toBe(200);
		expect(lastMessage()).toMatchObject({ id: obj(obj(res.body).result).id, text: '' });
		expect(lastMessage()?.attach).toMatchObject({ BLOCKS });
	});

	it('reads a form-encoded attachment (as a batch command carries it) as the same lists', async () => {
		const form = new URLSearchParams({
			botId: String(BOTS.SUPPORT_BOT),
			botToken: SUPPORT_BOT_TOKEN,
			dialogId: `chat${BOT_DIALOGS.WITH_BOT}`,
			'fields[attach][0][IMAGE][0][LINK]': '/upload/a.png',
		});
		const res = await request(`${emu.webhookUrl}${SEND}`, { body: { form } });

		expect(res.status).toBe(200);
		expect(lastMessage()?.attach).toEqual({ BLOCKS: [{ IMAGE: [{ LINK: '/upload/a.png' }] }] });
	});

	it.each([
		['JSON text that is not JSON', '[{'],
		['no blocks', { COLOR_TOKEN: 'primary' }],
		['a block of an unknown type', [{ VIDEO: 'x' }]],
		['a block with two keys', [{ MESSAGE: 'a', DELIMITER: {} }]],
		['an image without a link', [{ IMAGE: [{ NAME: 'x' }] }]],
		['a link that is not http(s) or root-relative', [{ LINK: { LINK: 'ftp://x' } }]],
		['a grid line with an unknown DISPLAY', [{ GRID: [{ DISPLAY: 'COLUMN' }] }]],
	])('refuses %s: 400 ATTACH_ERROR, nothing posted', async (_case, attach) => {
		const before = dialogOf(emu.world, BOT_DIALOGS.WITH_BOT)?.messages.length;
		const res = await send({ message: 'Hi', attach });

		expect([res.status, obj(res.body).error]).toEqual([400, 'ATTACH_ERROR']);
		expect(dialogOf(emu.world, BOT_DIALOGS.WITH_BOT)?.messages.length).toBe(before);
	});

	it('refuses more than 60,000 characters of PHP serialize() output: ATTACH_OVERSIZE', async () => {
		// 59,950 characters of text and the serialized frame around it make 60,011.
		const over = await send({ attach: [{ MESSAGE: 'ü'.repeat(59_950) }] });
		const under = await send({ attach: [{ MESSAGE: 'ü'.repeat(59_900) }] });

		expect([over.status, obj(over.body).error]).toEqual([400, 'ATTACH_OVERSIZE']);
		expect(under.status).toBe(200);
	});
});
