import { searchList } from '../../../../tools/harness/listSearch';
import { oauthCredential } from '../../../../tools/harness/oauthCredential';
import { useEmulator } from '../../../../tools/harness/useEmulator';

const emulator = useEmulator();

const viaWebhook = () => ({
	type: 'bitrix24WebhookApi' as const,
	data: { webhookUrl: emulator.webhookUrl },
});

describe('Chat > From List', () => {
	it("lists the entity's chats whose dialog is in progress, named after their channel", async () => {
		const { results } = await searchList('getChats', {
			parameters: { crmEntityType: 'lead', crmEntityId: '1195' },
			credential: viaWebhook(),
		});

		// Lead 1195 also has a finished (1342) and a new (1343) dialog: the send would refuse those.
		expect(results).toEqual([
			{
				name: 'Telegram - chat 1341',
				value: '1341',
				url: `${emulator.baseUrl}/online/?IM_DIALOG=chat1341`,
			},
		]);
		expect(emulator.requests[0].params).toMatchObject({
			CRM_ENTITY_TYPE: 'lead',
			CRM_ENTITY: 1195,
		});
	});

	it('lists the chats of deals, contacts and companies too', async () => {
		const listed = await Promise.all(
			[
				['deal', '501'],
				['contact', '77'],
				['company', '12'],
			].map(
				async ([crmEntityType, crmEntityId]) =>
					(
						await searchList('getChats', {
							parameters: { crmEntityType, crmEntityId },
							credential: viaWebhook(),
						})
					).results,
			),
		);

		expect(listed).toEqual([
			[
				{
					name: 'Telegram - chat 1500',
					value: '1500',
					url: `${emulator.baseUrl}/online/?IM_DIALOG=chat1500`,
				},
			],
			[
				{
					name: 'WhatsApp - chat 1600',
					value: '1600',
					url: `${emulator.baseUrl}/online/?IM_DIALOG=chat1600`,
				},
			],
			[
				{
					name: 'Live Chat - chat 1700',
					value: '1700',
					url: `${emulator.baseUrl}/online/?IM_DIALOG=chat1700`,
				},
			],
		]);
	});

	it('works through the OAuth2 credential', async () => {
		const tokens = emulator.issueOAuthTokens();
		const { results } = await searchList('getChats', {
			parameters: { crmEntityType: 'lead', crmEntityId: '1196' },
			credential: oauthCredential(emulator, tokens),
		});

		expect(results).toEqual([
			{
				name: 'Live Chat - chat 1400',
				value: '1400',
				url: `${emulator.baseUrl}/online/?IM_DIALOG=chat1400`,
			},
		]);
		expect(emulator.requests[0]).toMatchObject({
			path: '/rest/imopenlines.crm.chat.get.json',
			authKind: 'oauth',
		});
	});

	it('refreshes an expired OAuth2 token through n8n and lists the chats', async () => {
		const tokens = emulator.issueOAuthTokens({ expired: true });
		const { results } = await searchList('getChats', {
			parameters: { crmEntityType: 'lead', crmEntityId: '1196' },
			credential: oauthCredential(emulator, tokens),
		});

		expect(results.map((result) => result.value)).toEqual(['1400']);
		expect(emulator.requests.map((request) => [request.path, request.status])).toEqual([
			['/rest/imopenlines.crm.chat.get.json', 401],
			['/oauth/token/', 200],
			['/rest/imopenlines.crm.chat.get.json', 200],
		]);
	});

	it('says so when the entity has no chat in progress', async () => {
		await expect(
			searchList('getChats', {
				parameters: { crmEntityType: 'lead', crmEntityId: '1197' },
				credential: viaWebhook(),
			}),
		).rejects.toMatchObject({
			message: 'lead 1197 has no chat with a dialog in progress',
			description: expect.stringContaining('Only chats an operator has taken accept messages'),
		});
	});

	it.each([
		['an expression', { crmEntityType: 'lead', crmEntityId: '={{ $json.ID }}' }],
		['empty', { crmEntityType: 'lead', crmEntityId: '' }],
		[
			'an entity type from an expression',
			{ crmEntityType: '={{ $json.type }}', crmEntityId: '1195' },
		],
	])(
		'explains what to do when the entity is %s, asking nothing of the portal',
		async (_case, parameters) => {
			await expect(
				searchList('getChats', { parameters, credential: viaWebhook() }),
			).rejects.toMatchObject({
				message: 'Set a fixed CRM Entity Type and CRM Entity ID to list their chats',
				description: expect.stringContaining('Active Chat of the CRM Entity'),
			});
			expect(emulator.requests).toHaveLength(0);
		},
	);

	it("shows Bitrix24's refusal readably", async () => {
		await expect(
			searchList('getChats', {
				parameters: { crmEntityType: 'lead', crmEntityId: '1195' },
				credential: {
					type: 'bitrix24WebhookApi',
					data: { webhookUrl: emulator.limitedWebhookUrl },
				},
			}),
		).rejects.toMatchObject({
			message:
				'The Bitrix24 webhook or application lacks the imopenlines permission (insufficient_scope)',
		});
	});
});
