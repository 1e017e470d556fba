import { searchList } from '../../../../tools/harness/listSearch';
import { useEmulator } from '../../../../tools/harness/useEmulator';

const emulator = useEmulator();

const search = async (
	filter?: string,
	paginationToken?: string,
	webhookUrl = emulator.webhookUrl,
) =>
	await searchList('getSenders', {
		parameters: {},
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl } },
		filter,
		paginationToken,
	});

describe('Sender > From List', () => {
	it('lists active users, then bots, labelled so a person can tell them apart', async () => {
		const { results, paginationToken } = await search();

		expect(results).toEqual([
			{
				name: 'Anna Admin (user 1)',
				value: '1',
				url: `${emulator.baseUrl}/company/personal/user/1/`,
			},
			{
				name: 'Oleg Operator (user 27)',
				value: '27',
				url: `${emulator.baseUrl}/company/personal/user/27/`,
			},
			{
				name: 'Maria Manager (user 31)',
				value: '31',
				url: `${emulator.baseUrl}/company/personal/user/31/`,
			},
			{ name: 'SupportBot (bot 39)', value: '39' },
			{ name: 'SurveyBot (bot 40)', value: '40' },
		]);
		expect(paginationToken).toBeUndefined();
		expect(results.map((result) => result.value)).not.toContain('45');
	});

	it('searches users and bots by the typed text', async () => {
		expect((await search('oleg')).results).toEqual([
			{
				name: 'Oleg Operator (user 27)',
				value: '27',
				url: `${emulator.baseUrl}/company/personal/user/27/`,
			},
		]);
		expect((await search('support')).results).toEqual([
			{ name: 'SupportBot (bot 39)', value: '39' },
		]);
		const [userSearch] = emulator.requests.filter(
			(request) => request.restMethod === 'user.search',
		);
		expect(userSearch.params).toMatchObject({ FILTER: { FIND: 'oleg' } });
	});

	it('pages through many users, 50 at a time, with the bots after the last page', async () => {
		for (let id = 100; id < 160; id++) {
			emulator.world.users.push({
				...emulator.world.users[1],
				id,
				name: `Operator${id}`,
				email: `op${id}@example.com`,
			});
		}
		const first = await search('operator');
		const second = await search('operator', first.paginationToken);

		expect(first.results).toHaveLength(50);
		expect(first.paginationToken).toBe('50');
		expect(second.paginationToken).toBeUndefined();
		const all = [...first.results, ...second.results].map((result) => result.name);
		expect(all).toContain('Oleg Operator (user 27)');
		expect(new Set(all).size).toBe(all.length);
	});

	it('still lists users when the credential may not list bots', async () => {
		const { results } = await search('', undefined, emulator.limitedWebhookUrl);

		expect(results.map((result) => result.name)).toEqual([
			'Anna Admin (user 1)',
			'Oleg Operator (user 27)',
			'Maria Manager (user 31)',
		]);
	});
});

describe('Sender > From List without the user scope', () => {
	it('names the missing permission', async () => {
		const webhook = emulator.world.webhooks.find(
			(hook) => hook.scopes.includes('user') && !hook.scopes.includes('imopenlines'),
		);
		if (!webhook) throw new Error('The seeded world has no crm+user webhook');
		webhook.scopes = ['crm', 'imopenlines'];

		await expect(search('', undefined, emulator.limitedWebhookUrl)).rejects.toMatchObject({
			message: 'The Bitrix24 webhook or application lacks the user permission (insufficient_scope)',
		});
	});
});
