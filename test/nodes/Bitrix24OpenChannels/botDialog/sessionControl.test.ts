/**
 * The bot lets go of a dialog: Hand Over to Operator, Transfer (to a user or another open channel) and Finish,
 * through n8n's engine against the emulated portal.
 */

import {
	BOT_DIALOGS,
	BOTS,
	CUSTOMERS,
	lineChatState,
	OPEN_LINES,
	SUPPORT_BOT_TOKEN,
	USERS,
} from '../../../../tools/emulator';
import { useEmulator } from '../../../../tools/harness/useEmulator';
import { askedFor, botCredential, callsOf, runBot } from './botRun';

const emulator = useEmulator();
const CHAT = { dialogChatId: '={{ $json.chatId }}' };
const events = () => emulator.world.imbot.sessionEvents;
const dialog = (chatId: number) => lineChatState(emulator.world, chatId);

describe('Hand Over to Operator', () => {
	it('passes a dialog the bot holds to the queue; the bot leaves the chat', async () => {
		const { outputs } = await runBot(emulator, 'handOver', CHAT, [{ chatId: 'chat2001' }]);

		expect(outputs[0].map((item) => item.json)).toEqual([
			{ chatId: BOT_DIALOGS.WITH_BOT, handedOver: true },
		]);
		expect(dialog(BOT_DIALOGS.WITH_BOT)).toMatchObject({ holder: 0, members: [CUSTOMERS.GUEST] });
		expect(
			JSON.parse(callsOf(emulator, 'imopenlines.bot.session.operator')[0].rawBody),
		).toStrictEqual({
			CHAT_ID: BOT_DIALOGS.WITH_BOT,
		});
	});

	it('a dialog an operator already has: WRONG_CHAT, worded as such, not sent', async () => {
		const { outputs } = await runBot(emulator, 'handOver', CHAT, [
			{ chatId: BOT_DIALOGS.WITH_OPERATOR },
		]);

		expect(outputs[1][0].json).toMatchObject({
			chatId: BOT_DIALOGS.WITH_OPERATOR,
			error: expect.stringContaining('an operator already has it'),
			details: { code: 'WRONG_CHAT', delivery: 'not_sent' },
		});
	});

	it('exactly once under Retry On Fail, whatever the other items do', async () => {
		const { error } = await runBot(
			emulator,
			'handOver',
			CHAT,
			[{ chatId: BOT_DIALOGS.WITH_BOT }, { chatId: BOT_DIALOGS.WITH_OPERATOR }],
			{
				onError: 'stopWorkflow',
				settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 0 },
			},
		);

		expect(error?.message).toContain('WRONG_CHAT');
		const asked = askedFor(emulator, 'imopenlines.bot.session.operator').map((params) =>
			String(params.CHAT_ID),
		);
		expect(asked.filter((id) => id === String(BOT_DIALOGS.WITH_BOT))).toHaveLength(1);
		expect(asked.filter((id) => id === String(BOT_DIALOGS.WITH_OPERATOR))).toHaveLength(3);
		expect(events().filter((e) => e.kind === 'operator')).toHaveLength(1);
	});
});

describe('Transfer', () => {
	const TRANSFER = 'imopenlines.bot.session.transfer';

	it('to a user: one target only, the Bot Token as CLIENT_ID from the credential', async () => {
		const { outputs } = await runBot(
			emulator,
			'transfer',
			{
				...CHAT,
				transferTo: 'user',
				transferUserId: { __rl: true, mode: 'list', value: String(USERS.MARIA_MANAGER) },
				leaveChat: true,
			},
			[{ chatId: BOT_DIALOGS.WITH_BOT }],
		);

		expect(outputs[0][0].json).toEqual({
			chatId: BOT_DIALOGS.WITH_BOT,
			transferredTo: 'user',
			userId: USERS.MARIA_MANAGER,
			botLeft: true,
		});
		expect(JSON.parse(callsOf(emulator, TRANSFER)[0].rawBody)).toStrictEqual({
			CHAT_ID: BOT_DIALOGS.WITH_BOT,
			USER_ID: USERS.MARIA_MANAGER,
			LEAVE: 'Y',
			CLIENT_ID: SUPPORT_BOT_TOKEN,
		});
		expect(dialog(BOT_DIALOGS.WITH_BOT)).toMatchObject({
			holder: USERS.MARIA_MANAGER,
			members: [CUSTOMERS.GUEST, USERS.MARIA_MANAGER],
		});
	});

	it('to another open channel: its queue gets the dialog, the bot stays until accepted', async () => {
		const { outputs } = await runBot(
			emulator,
			'transfer',
			{
				...CHAT,
				transferTo: 'openChannel',
				openChannelId: { __rl: true, mode: 'id', value: String(OPEN_LINES.SALES) },
			},
			[{ chatId: BOT_DIALOGS.WITH_BOT }],
		);

		expect(outputs[0][0].json).toMatchObject({
			transferredTo: 'openChannel',
			openChannelId: OPEN_LINES.SALES,
			botLeft: false,
		});
		expect(events()).toEqual([
			expect.objectContaining({
				kind: 'transfer',
				to: `queue${OPEN_LINES.SALES}`,
				leave: false,
				botId: BOTS.SUPPORT_BOT,
			}),
		]);
	});

	it('a user who may not take it (deactivated): OPERATOR_WRONG naming the target', async () => {
		const { outputs } = await runBot(
			emulator,
			'transfer',
			{
				...CHAT,
				transferUserId: { __rl: true, mode: 'id', value: String(USERS.IVAN_FORMER) },
			},
			[{ chatId: BOT_DIALOGS.WITH_BOT }],
		);

		expect(outputs[1][0].json.error).toBe(
			'Bitrix24 would not transfer the chat 2001 to user 45 (OPERATOR_WRONG)',
		);
	});

	it('a user mapped from a field the item lacks: ERROR_ARGUMENT naming the field, nothing sent', async () => {
		const { outputs } = await runBot(
			emulator,
			'transfer',
			{ ...CHAT, transferUserId: { __rl: true, mode: 'id', value: '={{ $json.userId }}' } },
			[{ chatId: BOT_DIALOGS.WITH_BOT }],
		);

		expect(outputs[1][0].json.details).toMatchObject({
			code: 'ERROR_ARGUMENT',
			argument: 'USER_ID',
		});
		expect(outputs[1][0].json.error).toContain('"User"');
		expect(askedFor(emulator, TRANSFER)).toHaveLength(0);
	});

	it('a webhook credential without the Bot Token: Bitrix24 refuses (403), the sentence says why', async () => {
		const { outputs } = await runBot(
			emulator,
			'transfer',
			{ ...CHAT, transferUserId: { __rl: true, mode: 'id', value: '27' } },
			[{ chatId: BOT_DIALOGS.WITH_BOT }],
			{ credential: botCredential(emulator, '') },
		);

		expect(outputs[1][0].json).toMatchObject({
			error:
				'Bitrix24 refused the bot call: the webhook credential has no Bot Token (Client ID not specified) (ACCESS_DENIED)',
			details: { httpStatus: 403, delivery: 'not_sent' },
		});
	});
});

describe('Finish', () => {
	it('closes the session on behalf of the bot', async () => {
		const { outputs } = await runBot(emulator, 'finish', CHAT, [{ chatId: BOT_DIALOGS.WITH_BOT }]);

		expect(outputs[0][0].json).toEqual({ chatId: BOT_DIALOGS.WITH_BOT, finished: true });
		expect(dialog(BOT_DIALOGS.WITH_BOT)?.sessionOpen).toBe(false);
		expect(
			JSON.parse(callsOf(emulator, 'imopenlines.bot.session.finish')[0].rawBody),
		).toStrictEqual({
			CHAT_ID: BOT_DIALOGS.WITH_BOT,
			CLIENT_ID: SUPPORT_BOT_TOKEN,
		});
	});

	it('a token that registered no bot: BOT_ID_ERROR with the Bot Token hint', async () => {
		const { error } = await runBot(emulator, 'finish', CHAT, [{ chatId: BOT_DIALOGS.WITH_BOT }], {
			credential: botCredential(emulator, 'n8n-unknown-bot-token-42'),
			onError: 'stopWorkflow',
		});

		expect(error?.message).toContain('(BOT_ID_ERROR)');
		expect(error?.description).toContain('fill in Bot Token');
		expect(dialog(BOT_DIALOGS.WITH_BOT)?.sessionOpen).toBe(true);
	});
});

describe('a whole bot reply flow in one run, per dialog in input order', () => {
	it('reply, then hand over: the reply is posted before the bot leaves', async () => {
		const reply = await runBot(
			emulator,
			'sendMessage',
			{
				botId: { __rl: true, mode: 'id', value: '39' },
				...CHAT,
				text: 'Connecting you to an operator',
			},
			[{ chatId: BOT_DIALOGS.WITH_BOT }],
		);
		const handOver = await runBot(emulator, 'handOver', CHAT, [{ chatId: BOT_DIALOGS.WITH_BOT }]);

		expect([reply.outputs[0].length, handOver.outputs[0].length]).toEqual([1, 1]);
		const texts = dialog(BOT_DIALOGS.WITH_BOT)?.messages.map((m) => m.text) ?? [];
		expect(texts.slice(-2)).toEqual([
			'Connecting you to an operator',
			'The chat bot has passed the dialog to an operator',
		]);
	});
});
