import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import { describeFailure, type Bitrix24Failure } from '../nodes/shared/errors';
import { webhookRestBase } from '../nodes/shared/portalUrl';
import { budgetFields } from '../nodes/shared/budgetFields';

export class Bitrix24WebhookApi implements ICredentialType {
	name = 'bitrix24WebhookApi';

	displayName = 'Bitrix24 Webhook API';

	icon = { light: 'file:../icons/bitrix24.svg', dark: 'file:../icons/bitrix24.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-bitrix24-open-channels/n8n-nodes-bitrix24-open-channels#inbound-webhook';

	properties: INodeProperties[] = [
		// The URL holds the webhook's secret code, which grants access to the portal: keep it masked.
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password
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
		...budgetFields,
	];

	/** The webhook's own URL is the REST base; its code never leaves the credential otherwise. */
	authenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		let baseURL: string;
		try {
			baseURL = webhookRestBase(credentials.webhookUrl);
		} catch (failure) {
			// A plain error: n8n's credential test shows its message (it would show only a `code` property).
			throw new Error(describeFailure(failure as Bitrix24Failure, {}));
		}
		return { ...requestOptions, baseURL };
	};

	/**
	 * One batch call: `user.current` proves the URL and code, `imopenlines.revision.get` that the webhook
	 * has the Open Channels scope (it fails alone, inside the batch, when the scope is missing).
	 */
	test: ICredentialTestRequest = {
		request: {
			method: 'POST',
			url: 'batch.json',
			body: { halt: 0, cmd: { user: 'user.current', openChannels: 'imopenlines.revision.get' } },
		},
		// n8n checks every rule by its own type; its type definition only allows one kind per list.
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'Bitrix24 did not accept the webhook: its code is wrong or the webhook was deleted. Copy the URL again from Developer resources > Other > Inbound webhook.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message:
						"Bitrix24 refused the webhook: its user lacks the rights, or the portal's plan has no REST API.",
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'result.result_error.openChannels.error',
					value: 'insufficient_scope',
					message:
						'The webhook works but lacks the Open Channels (imopenlines) permission: edit it in Bitrix24, tick "Open Channels (imopenlines)" and save.',
				},
			},
		] as ICredentialTestRequest['rules'],
	};
}
