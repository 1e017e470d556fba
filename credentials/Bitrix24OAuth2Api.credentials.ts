import type { ICredentialType, INodeProperties } from 'n8n-workflow';

import { budgetFields } from '../nodes/shared/budgetFields';

export class Bitrix24OAuth2Api implements ICredentialType {
	name = 'bitrix24OAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Bitrix24 OAuth2 API';

	icon = { light: 'file:../icons/bitrix24.svg', dark: 'file:../icons/bitrix24.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-bitrix24-open-channels/n8n-nodes-bitrix24-open-channels#oauth2-local-application';

	properties: INodeProperties[] = [
		{
			displayName: 'Portal URL',
			name: 'portalUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://yourcompany.bitrix24.com',
			description: 'Address of your Bitrix24 portal; REST calls go to <Portal URL>/rest/',
		},
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'hidden',
			default: 'authorizationCode',
		},
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			// Hidden fields keep their default in n8n 2.x, so it is derived from the visible portal URL.
			default: '={{ String($self["portalUrl"]).replace(/\\/+$/, "") }}/oauth/authorize/',
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'string',
			default: 'https://oauth.bitrix.info/oauth/token/',
			required: true,
			description:
				'Bitrix24 OAuth server. Keep the default unless your portal names another one (e.g. https://oauth.bitrix24.tech/oauth/token/ in some regions).',
		},
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'hidden',
			// Bitrix24 takes the scopes from the application's settings, not from the request.
			default: '',
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: '',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'hidden',
			default: 'body',
		},
		...budgetFields,
	];
}
