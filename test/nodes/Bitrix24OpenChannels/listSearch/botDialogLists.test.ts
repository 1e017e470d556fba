/** The Bot Dialog pick-lists: bots, employees to transfer to, open channels. */
import { searchList } from '../../../../tools/harness/listSearch';
import { useEmulator } from '../../../../tools/harness/useEmulator';

const emulator = useEmulator();
const list = async (
	method: 'getBots' | 'getOperators' | 'getOpenChannels',
	filter?: string,
	webhookUrl = emulator.webhookUrl,
) =>
	await searchList(method, {
		parameters: { resource: 'botDialog' },
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl } },
		filter,
	});

describe('Bot Dialog pick-lists', () => {
	it('Bot: the portal bots matching the text', async () => {
		expect((await list('getBots')).results).toEqual([
			{ name: 'SupportBot (bot 39)', value: '39' },
			{ name: 'SurveyBot (bot 40)', value: '40' },
		]);
		expect((await list('getBots', 'supp')).results).toEqual([
			{ name: 'SupportBot (bot 39)', value: '39' },
		]);
	});

	it('Bot: a credential without the imbot scope is told so, not shown an empty list', async () => {
		await expect(list('getBots', '', emulator.limitedWebhookUrl)).rejects.toThrow(
			'lacks the imbot permission',
		);
	});

	it('User: active employees only, no bots, searchable', async () => {
		expect((await list('getOperators')).results.map((r) => r.name)).toEqual([
			'Anna Admin (user 1)',
			'Oleg Operator (user 27)',
			'Maria Manager (user 31)',
		]);
		expect((await list('getOperators', 'oleg')).results.map((r) => r.name)).toEqual([
			'Oleg Operator (user 27)',
		]);
	});

	it('Open Channel: the lines, a switched-off one marked, each linked to its settings', async () => {
		expect((await list('getOpenChannels')).results).toEqual([
			{
				name: 'Customer support (line 1)',
				value: '1',
				url: expect.stringMatching(/openlines_edit\/\?ID=1$/),
			},
			{ name: 'Sales (line 2)', value: '2', url: expect.stringMatching(/openlines_edit\/\?ID=2$/) },
			{
				name: 'Old website chat (line 3), switched off',
				value: '3',
				url: expect.stringMatching(/openlines_edit\/\?ID=3$/),
			},
		]);
	});
});
