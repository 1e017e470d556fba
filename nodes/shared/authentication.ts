import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';

/** Both nodes take either credential, chosen by their Authentication parameter. */
export const credentialChoice: INodeCredentialDescription[] = [
	{
		name: 'bitrix24WebhookApi',
		required: true,
		displayOptions: { show: { authentication: ['webhook'] } },
	},
	{
		name: 'bitrix24OAuth2Api',
		required: true,
		displayOptions: { show: { authentication: ['oAuth2'] } },
	},
];

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{ name: 'Inbound Webhook', value: 'webhook' },
		{ name: 'OAuth2', value: 'oAuth2' },
	],
	default: 'webhook',
};
