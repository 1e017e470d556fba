/** The Bot Dialog "Chat" pick-list: open channel dialogs from im.recent.list of the credential's user. */
import {
	BOT_DIALOGS,
	botSessionsOf,
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
		]);
		expect(paginationToken).toBeUndefined();
		expect(emulator.requests.map((r) => r.restMethod)).toEqual(['im.recent.list']);
	});

	it('searches by channel, name or chat ID', async () => {
		const url = operatorWebhook();
		expect((await list(url, 'telegram')).results.map((r) => r.value)).toEqual(['2002']);
		expect((await list(url, 'OLGA')).results.map((r) => r.value)).toEqual(['2003']);
		expect((await list(url, 'chat 2004')).results.map((r) => r.value)).toEqual(['2004']);
		expect((await list(url, 'nobody')).results).toEqual([]);
	});

	it('pages through more than 50 dialogs', async () => {
		const url = operatorWebhook();
		const seed = dialogOf(emulator.world, BOT_DIALOGS.WITH_BOT_TELEGRAM);
		if (!seed) throw new Error('no seeded dialog');
		for (let i = 0; i < 50; i++)
			botSessionsOf(emulator.world).dialogs.push({
				...structuredClone(seed),
				chatId: 3000 + i,
			});

		const first = await list(url);
		const second = await list(url, undefined, first.paginationToken);

		expect(first.results).toHaveLength(50);
		expect(first.paginationToken).toBe('50');
		expect(second.results).toHaveLength(4);
		expect(second.paginationToken).toBeUndefined();
		expect(new Set([...first.results, ...second.results].map((r) => r.value)).size).toBe(54);
	});

	it('none to list: says why and what to do instead', async () => {
		// The admin takes part in no open channel dialog and is in no line's queue.
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
		const none = await list(emulator.webhookUrl).catch((error: Error) => error);

		const everything = JSON.stringify([listed, String(refused), String(none)]);
		expect(everything).not.toContain(OPERATOR_CODE);
		expect(everything).not.toContain(WEBHOOK_CODE);
	});
});
