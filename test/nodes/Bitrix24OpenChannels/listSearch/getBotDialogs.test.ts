/** The Bot Dialog "Chat" pick-list: open channel dialogs from im.recent.list of the credential's user. */
import {
	BOT_DIALOGS,
	dialogOf,
	FULL_SCOPES,
	USERS,
	WEBHOOK_CODE,
} from '../../../../tools/emulator';
import { searchList } from '../../../../tools/harness/listSearch';
import { useEmulator } from '../../../../tools/harness/useEmulator';

const emulator = useEmulator();

/** An inbound webhook of Oleg, operator of both open channels the dialogs are on. */
const OPERATOR_CODE = 'oleg0operator0hook0x7';
const operatorWebhook = () => {
	emulator.world.webhooks.push({
		userId: USERS.OLEG_OPERATOR,
		code: OPERATOR_CODE,
		scopes: [...FULL_SCOPES],
	});
	return `${emulator.baseUrl}/rest/${USERS.OLEG_OPERATOR}/${OPERATOR_CODE}/`;
};

const list = async (webhookUrl: string, filter?: string, paginationToken?: string) =>
	await searchList('getBotDialogs', {
		parameters: { resource: 'botDialog', operation: 'sendMessage' },
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl } },
		filter,
		paginationToken,
	});

describe('Bot Dialog > Chat: From List', () => {
	it('lists the open channel dialogs the user sees, newest first, labelled by channel, customer and line, linked to the messenger', async () => {
		const { results, paginationToken } = await list(operatorWebhook());

		expect(results).toEqual([
			{
				name: 'Live chat - Guest - Customer support (chat 2001)',
				value: '2001',
				url: `${emulator.baseUrl}/online/?IM_DIALOG=chat2001`,
			},
			{
				name: 'WhatsApp - Olga - Sales (chat 2003)',
				value: '2003',
				url: `${emulator.baseUrl}/online/?IM_DIALOG=chat2003`,
			},
			{
				name: 'Telegram - Pavel - Customer support (chat 2002)',
				value: '2002',
				url: `${emulator.baseUrl}/online/?IM_DIALOG=chat2002`,
			},
			{
				name: 'Live chat - Former guest - Customer support (chat 2004), finished',
				value: '2004',
				url: `${emulator.baseUrl}/online/?IM_DIALOG=chat2004`,
			},
			// The trigger's open-line chats, with no message yet, come last.
			...[
				'Telegram - Guest Telegram - Customer support (chat 1341)',
				'WhatsApp - Guest WhatsApp - Customer support (chat 1342), finished',
				'Live chat - Guest Live Chat - Customer support (chat 1343)',
				'Live chat - Callback Guest - Customer support (chat 1400)',
				'Telegram - Order Guest - Sales (chat 1500)',
				'WhatsApp - Pavel Customer - Customer support (chat 1600)',
				'Live chat - Acme Buyer - Sales (chat 1700)',
				'Live chat - Restricted Guest - Customer support (chat 1800)',
			].map((name) => {
				const chatId = /chat (\d+)/.exec(name)?.[1] ?? '';
				return { name, value: chatId, url: `${emulator.baseUrl}/online/?IM_DIALOG=chat${chatId}` };
			}),
		]);
		expect(paginationToken).toBeUndefined();
		expect(emulator.requests.map((r) => r.restMethod)).toEqual(['im.recent.list']);
	});

	it('searches by channel, name or chat ID', async () => {
		const url = operatorWebhook();
		expect((await list(url, 'telegram')).results.map((r) => r.value)).toEqual([
			'2002',
			'1341',
			'1500',
		]);
		expect((await list(url, 'OLGA')).results.map((r) => r.value)).toEqual(['2003']);
		expect((await list(url, 'chat 2004')).results.map((r) => r.value)).toEqual(['2004']);
		expect((await list(url, 'nobody')).results).toEqual([]);
	});

	it('pages through more than 50 dialogs', async () => {
		const url = operatorWebhook();
		const seed = dialogOf(emulator.world, BOT_DIALOGS.WITH_BOT_TELEGRAM);
		const seedChat = emulator.world.chats.find((chat) => chat.id === seed?.chatId);
		if (!seed || !seedChat) throw new Error('no seeded dialog');
		for (let i = 0; i < 50; i++) {
			emulator.world.chats.push({ ...structuredClone(seedChat), id: 3000 + i });
			emulator.world.imbot.dialogs.push({ ...structuredClone(seed), chatId: 3000 + i });
		}

		const first = await list(url);
		const second = await list(url, undefined, first.paginationToken);

		expect(first.results).toHaveLength(50);
		expect(first.paginationToken).toBe('50');
		// The 12 seeded dialogs and the 50 added.
		expect(second.results).toHaveLength(12);
		expect(second.paginationToken).toBeUndefined();
		expect(new Set([...first.results, ...second.results].map((r) => r.value)).size).toBe(62);
	});

	it('none to list: says why and what to do instead', async () => {
		// A portal without open channel dialogs.
		emulator.world.imbot.dialogs.length = 0;
		const failure = list(emulator.webhookUrl);

		await expect(failure).rejects.toThrow('No open channel dialogs to list');
		await expect(list(emulator.webhookUrl)).rejects.toMatchObject({
			description: expect.stringContaining('By ID'),
		});
	});

	it('a credential without the im scope is told so', async () => {
		await expect(list(emulator.limitedWebhookUrl)).rejects.toThrow('lacks the im permission');
	});

	it('the webhook code appears in no label, link or error', async () => {
		const url = operatorWebhook();
		const listed = await list(url);
		const refused = await list(emulator.limitedWebhookUrl).catch((error: Error) => error);
		emulator.world.imbot.dialogs.length = 0;
		const none = await list(emulator.webhookUrl).catch((error: Error) => error);

		const everything = JSON.stringify([listed, String(refused), String(none)]);
		expect(everything).not.toContain(OPERATOR_CODE);
		expect(everything).not.toContain(WEBHOOK_CODE);
	});
});
