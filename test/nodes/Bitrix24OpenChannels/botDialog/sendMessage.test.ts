/**
 * A bot answers customers: Bot Dialog > Send Message through n8n's engine against the emulated portal, with the
 * bot's token from the webhook credential.
 */
import { LoggerProxy, type IDataObject } from 'n8n-workflow';

import {
	BOT_DIALOGS,
	BOTS,
	dialogOf,
	lineChatState,
	SUPPORT_BOT_TOKEN,
	WEBHOOK_CODE,
} from '../../../../tools/emulator';
import { oauthCredential } from '../../../../tools/harness/oauthCredential';
import { useEmulator } from '../../../../tools/harness/useEmulator';
import { SENDING_MODES } from '../../../../tools/harness/runWorkflow';
import { askedFor, botCredential, callsOf, REPLY, runBot } from './botRun';

const SEND = 'imbot.v2.Chat.Message.send';
const emulator = useEmulator();

const logLines: string[] = [];
const capture = (level: string) => (message: string, meta?: object) =>
	logLines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
LoggerProxy.init({
	error: capture('error'),
	warn: capture('warn'),
	info: capture('info'),
	debug: capture('debug'),
});
beforeEach(() => (logLines.length = 0));

const botMessages = (chatId: number) =>
	(dialogOf(emulator.world, chatId)?.messages ?? []).filter((m) => m.authorId === BOTS.SUPPORT_BOT);
const reply = (text: unknown, chatId: unknown = BOT_DIALOGS.WITH_BOT): IDataObject => ({
	chatId: chatId as IDataObject[string],
	text: text as IDataObject[string],
});

describe('a customer asks, the bot answers', () => {
	it('posts the reply as the bot, with buttons, and returns the message ID paired to the item', async () => {
		const { outputs } = await runBot(
			emulator,
			'sendMessage',
			{
				...REPLY,
				buttons: {
					button: [
						{ text: 'Talk to a human', type: 'send', value: 'operator' },
						{ text: 'Track', type: 'link', value: 'https://shop.example.com/t/1045', newRow: true },
					],
				},
			},
			[reply('Your order [b]#1045[/b] ships tomorrow.')],
		);

		const [posted] = botMessages(BOT_DIALOGS.WITH_BOT).slice(-1);
		expect(outputs[0].map((item) => [item.json, item.pairedItem])).toEqual([
			[
				{ messageId: posted.id, chatId: BOT_DIALOGS.WITH_BOT, dialogId: 'chat2001', botId: 39 },
				{ item: 0 },
			],
		]);
		expect(posted.text).toBe('Your order [b]#1045[/b] ships tomorrow.');
		expect(posted.keyboard).toEqual([
			{ TEXT: 'Talk to a human', ACTION: 'SEND', ACTION_VALUE: 'operator' },
			{ TYPE: 'NEWLINE' },
			{ TEXT: 'Track', LINK: 'https://shop.example.com/t/1045' },
		]);
	});

	it('sends exactly the imbot.v2 body; the credential adds the bot token, the items never see it', async () => {
		const { outputs } = await runBot(emulator, 'sendMessage', REPLY, [reply('Hi', 'chat2001')]);

		const [call] = callsOf(emulator, SEND);
		expect(call.path).toBe(`/rest/1/${WEBHOOK_CODE}/${SEND}.json`);
		expect(JSON.parse(call.rawBody)).toStrictEqual({
			botId: 39,
			dialogId: 'chat2001',
			fields: { message: 'Hi' },
			botToken: SUPPORT_BOT_TOKEN,
		});
		expect(JSON.stringify(outputs)).not.toContain(SUPPORT_BOT_TOKEN);
	});

	it('over OAuth2 a bot of the application needs no token', async () => {
		lineChatState(emulator.world, BOT_DIALOGS.WITH_BOT)?.members.push(BOTS.SURVEY_BOT);
		const { outputs } = await runBot(
			emulator,
			'sendMessage',
			REPLY,
			[{ ...reply('Survey'), botId: 40 }],
			{
				credential: oauthCredential(emulator, emulator.issueOAuthTokens()),
			},
		);

		expect(outputs[0]).toHaveLength(1);
		expect(JSON.parse(callsOf(emulator, SEND)[0].rawBody)).not.toHaveProperty('botToken');
	});
});

describe.each(SENDING_MODES)('several dialogs at once, sending %s', (_mode, botOptions) => {
	it('keeps replies to one dialog in input order over a jittery link', async () => {
		const texts = Array.from({ length: 12 }, (_, i) => `part ${i + 1}`);
		emulator.setJitter(15);
		const { outputs } = await runBot(
			emulator,
			'sendMessage',
			{ ...REPLY, botOptions },
			texts.map((text, i) =>
				reply(text, i % 2 === 0 ? BOT_DIALOGS.WITH_BOT : BOT_DIALOGS.WITH_BOT_TELEGRAM),
			),
		);

		expect(outputs[0]).toHaveLength(12);
		expect(
			botMessages(BOT_DIALOGS.WITH_BOT)
				.slice(1)
				.map((m) => m.text),
		).toEqual(texts.filter((_, i) => i % 2 === 0));
		expect(botMessages(BOT_DIALOGS.WITH_BOT_TELEGRAM).map((m) => m.text)).toEqual(
			texts.filter((_, i) => i % 2 === 1),
		);
	});

	it('a dialog the bot left beside one it holds: the same failure item as a lone reply (status 400, the bot sentence)', async () => {
		const { outputs } = await runBot(emulator, 'sendMessage', { ...REPLY, botOptions }, [
			reply('Your order ships tomorrow.'),
			reply('Still there?', BOT_DIALOGS.WITH_OPERATOR),
		]);

		expect(outputs[0].map((item) => item.json.chatId)).toEqual([BOT_DIALOGS.WITH_BOT]);
		expect(outputs[1].map((item) => item.json)).toEqual([
			{
				...reply('Still there?', BOT_DIALOGS.WITH_OPERATOR),
				error:
					'Bitrix24 refused the message: the bot 39 is not a member of the chat 2003 (a bot leaves the dialog when an operator takes it over) (ACCESS_DENIED)',
				details: expect.objectContaining({
					code: 'ACCESS_DENIED',
					httpStatus: 400,
					method: SEND,
					delivery: 'not_sent',
				}),
			},
		]);
		expect(botMessages(BOT_DIALOGS.WITH_OPERATOR)).toEqual([]);
	});

	it('buttons and BB codes arrive intact, and each call carries the bot token', async () => {
		const button = { text: 'Menü & more', type: 'send', value: 'a=b&c [b]x[/b]' };
		await runBot(emulator, 'sendMessage', { ...REPLY, botOptions, buttons: { button: [button] } }, [
			reply('Ünïcode 😀 & [b]bold[/b]'),
			reply('second', BOT_DIALOGS.WITH_BOT_TELEGRAM),
		]);

		const [first] = botMessages(BOT_DIALOGS.WITH_BOT).slice(-1);
		expect(first).toMatchObject({
			text: 'Ünïcode 😀 & [b]bold[/b]',
			keyboard: [{ TEXT: 'Menü & more', ACTION: 'SEND', ACTION_VALUE: 'a=b&c [b]x[/b]' }],
		});
		expect(askedFor(emulator, SEND).map((params) => params.botToken)).toEqual([
			SUPPORT_BOT_TOKEN,
			SUPPORT_BOT_TOKEN,
		]);
		expect(emulator.requests).toHaveLength(botOptions.sendInBatches === false ? 2 : 1);
	});
});

describe('bad input fails its own item, naming the field; nothing is sent for it', () => {
	it.each([
		['an empty text', reply('  '), 'Text', 'message'],
		['a text over 20,000 characters', reply('x'.repeat(20_001)), 'Text', 'message'],
		['half an emoji', reply('cut 😀'.slice(0, 5)), 'Text', 'message'],
		['a chat ID that is not one', reply('Hi', 'abc'), 'Chat', 'CHAT_ID'],
		['a bot ID of 0', { ...reply('Hi'), botId: 0 }, 'Bot', 'botId'],
	])('%s', async (_case, item, field, argument) => {
		const { outputs } = await runBot(emulator, 'sendMessage', REPLY, [item, reply('Fine')]);

		expect(outputs[0].map((i) => i.json.messageId !== undefined)).toEqual([true]);
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json).toMatchObject({
			...item,
			error: expect.stringContaining(`"${field}"`),
			details: { code: 'ERROR_ARGUMENT', argument, httpStatus: null, delivery: 'not_sent' },
		});
		expect(askedFor(emulator, SEND)).toHaveLength(1);
	});

	it.each([
		[{ text: '', type: 'send', value: 'x' }, 'has no text'],
		[{ text: 'Go', type: 'send', value: ' ' }, 'has no value'],
		[{ text: 'Go', type: 'link', value: 'javascript:alert(1)' }, 'needs a link'],
		[{ text: 'Person', type: 'command', value: 'talk to person' }, 'is a bot command with a space'],
	])('a button %j', async (button, problem) => {
		const { outputs } = await runBot(
			emulator,
			'sendMessage',
			{ ...REPLY, buttons: { button: [button] } },
			[reply('Hi')],
		);

		expect(outputs[1][0].json.error).toContain(`"Buttons > Button 1" (keyboard) ${problem}`);
		expect(askedFor(emulator, SEND)).toHaveLength(0);
	});
});

describe("the portal's refusals go to the error output with the input fields, a sentence and a verdict", () => {
	it('the bot left the dialog at hand-over: ACCESS_DENIED, not sent', async () => {
		const { outputs } = await runBot(emulator, 'sendMessage', REPLY, [
			reply('Still there?', BOT_DIALOGS.WITH_OPERATOR),
		]);

		expect(outputs[1][0].json).toMatchObject({
			chatId: BOT_DIALOGS.WITH_OPERATOR,
			error:
				'Bitrix24 refused the message: the bot 39 is not a member of the chat 2003 (a bot leaves the dialog when an operator takes it over) (ACCESS_DENIED)',
			details: { code: 'ACCESS_DENIED', httpStatus: 400, method: SEND, delivery: 'not_sent' },
		});
	});

	it('a webhook credential without the Bot Token: BOT_TOKEN_NOT_SPECIFIED, and the hint says where it goes', async () => {
		const { error } = await runBot(emulator, 'sendMessage', REPLY, [reply('Hi')], {
			credential: botCredential(emulator, ''),
			onError: 'stopWorkflow',
		});

		expect(error?.message).toBe(
			"Bitrix24 needs the bot's token: the webhook credential has no Bot Token (BOT_TOKEN_NOT_SPECIFIED)",
		);
		expect(error?.description).toContain('fill in Bot Token');
	});

	it('a token of another bot: BOT_OWNERSHIP_ERROR', async () => {
		const { outputs } = await runBot(emulator, 'sendMessage', REPLY, [reply('Hi')], {
			credential: botCredential(emulator, 'n8n-another-bot-token-1234'),
		});
		expect(outputs[1][0].json.details).toMatchObject({ code: 'BOT_OWNERSHIP_ERROR' });
	});

	it('a dropped connection after the portal posted: "unknown", never sent again', async () => {
		emulator.injectFaults([{ kind: 'dropAfterProcessing' }]);
		const { outputs } = await runBot(emulator, 'sendMessage', REPLY, [reply('maybe')]);

		expect(outputs[1][0].json.details).toMatchObject({
			code: 'DELIVERY_UNKNOWN',
			delivery: 'unknown',
		});
		expect(botMessages(BOT_DIALOGS.WITH_BOT).map((m) => m.text)).toContain('maybe');
		expect(askedFor(emulator, SEND)).toHaveLength(1);
	});
});

describe.each(SENDING_MODES)("n8n's Retry On Fail, sending %s", (_mode, botOptions) => {
	it('posts every good reply once though n8n runs the node three times', async () => {
		const { error } = await runBot(
			emulator,
			'sendMessage',
			{ ...REPLY, botOptions },
			[reply('one'), reply('refused', BOT_DIALOGS.WITH_OPERATOR), reply('two')],
			{
				onError: 'stopWorkflow',
				settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 0 },
			},
		);

		expect(error?.message).toContain('ACCESS_DENIED');
		expect(
			botMessages(BOT_DIALOGS.WITH_BOT)
				.slice(1)
				.map((m) => m.text),
		).toEqual(['one', 'two']);
		const asked = askedFor(emulator, SEND).map((params) => (params.fields as IDataObject).message);
		expect(asked.filter((text) => text === 'one')).toHaveLength(1);
		expect(asked.filter((text) => text === 'refused')).toHaveLength(3);
	});
});

describe('secrets', () => {
	it('the webhook code and the bot token appear in no output, error or log line', async () => {
		const items = [reply('Hi'), reply('no', BOT_DIALOGS.WITH_OPERATOR), reply('Hi', 'abc')];
		const errorRun = await runBot(emulator, 'sendMessage', REPLY, items);
		const stopRun = await runBot(emulator, 'sendMessage', REPLY, items, {
			onError: 'stopWorkflow',
		});
		emulator.injectFaults([
			{
				kind: 'status',
				status: 400,
				error: 'BOT_OWNERSHIP_ERROR',
				errorDescription: `token ${SUPPORT_BOT_TOKEN} at /rest/1/${WEBHOOK_CODE}/`,
			},
		]);
		const echoRun = await runBot(emulator, 'sendMessage', REPLY, items);

		const everything = JSON.stringify([
			[errorRun, stopRun, echoRun].map(({ run }) => run.data.resultData),
			{ ...stopRun.error, stack: stopRun.error?.stack },
			logLines,
		]);
		expect(echoRun.outputs[1][0].json.details).toMatchObject({ code: 'BOT_OWNERSHIP_ERROR' });
		expect(everything).not.toContain(SUPPORT_BOT_TOKEN);
		expect(everything).not.toContain(WEBHOOK_CODE);
	});
});
