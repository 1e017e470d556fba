import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import { webhookRestBase } from '../nodes/Bitrix24OpenChannels/shared/webhookUrl';
import { portalBudgetProperties } from './portalBudget';

export class Bitrix24WebhookApi implements ICredentialType {
	name = 'bitrix24WebhookApi';

	displayName = 'Bitrix24 Webhook API';

	icon = { light: 'file:../icons/bitrix24.svg', dark: 'file:../icons/bitrix24.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-bitrix24-open-channels/n8n-nodes-bitrix24-open-channels#inbound-webhook';

	properties: INodeProperties[] = [
		{
			displayName: 'Webhook URL',
			name: 'webhookUrl',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			placeholder: 'https://yourcompany.bitrix24.com/rest/1/abc123xyz/',
			description:
				'The inbound webhook URL exactly as Bitrix24 shows it (Developer resources > Other > Inbound webhook). The webhook needs the Open Channels (imopenlines) scope. Keep it secret: the code in it grants access to your portal.',
		},
		...portalBudgetProperties,
	];

	/** The webhook's own URL is the REST base; its code never leaves the credential otherwise. */
	authenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => ({
		...requestOptions,
		baseURL: webhookRestBase(credentials.webhookUrl),
	});

	test: ICredentialTestRequest = {
		request: { method: 'GET', url: 'user.current.json' },
	};
}
