/** The dialog's history for an AI agent's context: Bot Dialog > Get History through n8n's engine. */
import { BOT_DIALOGS, BOTS, CUSTOMERS, USERS } from '../../../../tools/emulator';
import { useEmulator } from '../../../../tools/harness/useEmulator';
import { callsOf, runBot } from './botRun';

const emulator = useEmulator();
const CHAT = { dialogChatId: '={{ $json.chatId }}' };

describe('Get History', () => {
	it("gives the latest session's messages oldest first, one item each, with the author's role", async () => {
		const { outputs } = await runBot(emulator, 'getHistory', CHAT, [
			{ chatId: BOT_DIALOGS.WITH_OPERATOR },
		]);

		expect(outputs[0].map((item) => item.json)).toEqual([
			expect.objectContaining({
				chatId: BOT_DIALOGS.WITH_OPERATOR,
				sessionId: 345,
				authorId: CUSTOMERS.WHATSAPP,
				authorName: 'Olga',
				authorRole: 'customer',
				text: 'I want a discount',
			}),
			expect.objectContaining({ authorId: 0, authorRole: 'system' }),
			expect.objectContaining({
				authorId: USERS.OLEG_OPERATOR,
				authorName: 'Oleg Operator',
				authorRole: 'operator',
				text: 'Hello, Oleg here.',
			}),
		]);
		const ids = outputs[0].map((item) => Number(item.json.messageId));
		expect(ids).toEqual([...ids].sort((a, b) => a - b));
		expect(outputs[0].every((item) => item.json.date !== null)).toBe(true);
		expect(outputs[0].map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 0 },
			{ item: 0 },
		]);
	});

	it("includes the bot's own replies, marked as the bot's", async () => {
		const { outputs } = await runBot(emulator, 'getHistory', CHAT, [
			{ chatId: `chat${BOT_DIALOGS.WITH_BOT}` },
		]);
		expect(outputs[0].map((item) => [item.json.authorRole, item.json.authorId])).toEqual([
			['customer', CUSTOMERS.GUEST],
			['bot', BOTS.SUPPORT_BOT],
			['customer', CUSTOMERS.GUEST],
		]);
	});

	it('reads one session by ID when asked', async () => {
		await runBot(emulator, 'getHistory', { ...CHAT, sessionId: '344' }, [
			{ chatId: BOT_DIALOGS.WITH_BOT_TELEGRAM },
		]);
		expect(
			JSON.parse(callsOf(emulator, 'imopenlines.session.history.get')[0].rawBody),
		).toStrictEqual({
			CHAT_ID: BOT_DIALOGS.WITH_BOT_TELEGRAM,
			SESSION_ID: 344,
		});
	});

	it('a chat without sessions: INVALID_SESSION_ID on the error output; a bad session ID is caught first', async () => {
		const { outputs } = await runBot(emulator, 'getHistory', CHAT, [{ chatId: 9999 }]);
		expect(outputs[1][0].json).toMatchObject({
			chatId: 9999,
			error: 'Bitrix24 found no session of the chat 9999 (INVALID_SESSION_ID)',
		});

		const bad = await runBot(emulator, 'getHistory', { ...CHAT, sessionId: 'last' }, [
			{ chatId: BOT_DIALOGS.WITH_BOT },
		]);
		expect(bad.outputs[1][0].json.details).toMatchObject({
			code: 'ERROR_ARGUMENT',
			argument: 'SESSION_ID',
		});
	});
});
