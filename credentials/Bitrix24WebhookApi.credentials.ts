import type {
	IDataObject,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import { describeFailure, type Bitrix24Failure } from '../nodes/shared/errors';
import { webhookRestBase } from '../nodes/shared/portalUrl';
import { budgetFields } from '../nodes/shared/budgetFields';
import { botTokenParameterOf } from '../nodes/shared/methods';
import { isObject } from '../nodes/shared/json';

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
		{
			displayName: 'Bot Token',
			name: 'botToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				"Only for the Bot Dialog operations: the secret your chat bot was registered with through this webhook (imbot.v2 botToken, at most 40 characters). It identifies the bot to Bitrix24; anyone with the webhook and this token can act as the bot. Leave empty if you don't use a bot.",
		},
		...budgetFields,
	];

	/**
	 * The webhook's own URL is the REST base; its code never leaves the credential otherwise. The bot's calls get the
	 * Bot Token here too, as the parameter Bitrix24 reads it from, so the token never passes through node
	 * parameters, items or the node's code.
	 */
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
		const botToken = String(credentials.botToken ?? '').trim();
		const body = requestOptions.body;
		if (botToken === '' || !isObject(body)) return { ...requestOptions, baseURL };
		const method = String(requestOptions.url ?? '')
			.replace(/\.json$/i, '')
			.toLowerCase();
		return { ...requestOptions, baseURL, body: withBotToken(method, body, botToken) };
	};

	/**
	 * One batch call: `user.current` proves the URL and code, `imopenlines.revision.get` that the webhook has the
	 * Open Channels scope (it fails alone, inside the batch, when the scope is missing). Bitrix24 answers every
	 * refusal of a webhook 401 (a wrong code, a free plan, a deactivated user...) and tells them apart only by the
	 * `error` in the body, which n8n's rules can read only from an answer the request took as a success
	 * (`responseCode` sees the status alone). So the request takes every status as an answer, and the rules read
	 * Bitrix24's code.
	 */
	test: ICredentialTestRequest = {
		request: {
			method: 'POST',
			url: 'batch.json',
			body: { halt: 0, cmd: { user: 'user.current', openChannels: 'imopenlines.revision.get' } },
			ignoreHttpStatusErrors: true,
		},
		// n8n takes the first rule that matches.
		rules: [
			refusal(
				'INVALID_CREDENTIALS',
				'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated. Copy the URL again from Developer resources > Other > Inbound webhook.',
			),
			refusal(
				'ACCESS_DENIED',
				"The webhook is right, but the portal's Bitrix24 plan does not include the REST API: webhooks work on commercial plans only (not on a free plan, nor after a subscription or trial ended).",
			),
			refusal(
				'authorization_error',
				"Bitrix24 could not sign in the webhook's user, who is probably deactivated: create the webhook as an active user.",
			),
			refusal(
				'OVERLOAD_LIMIT',
				'Bitrix24 has blocked this webhook for overload: contact Bitrix24 support to lift the block.',
			),
			refusal(
				'INVALID_REQUEST',
				'Bitrix24 requires https for webhooks: use the https:// address of the portal.',
			),
			refusal('PORTAL_DELETED', 'The Bitrix24 portal is deleted or its public part is closed.'),
			refusal(
				'QUERY_LIMIT_EXCEEDED',
				"The portal's request limit is used up right now: test again in a few seconds.",
			),
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'result.result_error.openChannels.error',
					value: 'insufficient_scope',
					message:
						'The webhook works but lacks the Open Channels (imopenlines) permission: edit it in Bitrix24, tick "Open Channels (imopenlines)" and save.',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'result',
					value: undefined,
					message:
						'The URL did not answer as a Bitrix24 REST API (no result came back): check the webhook URL, and that the portal is up.',
				},
			},
		] as ICredentialTestRequest['rules'],
	};
}

/** One call's parameters with the bot's token where its method reads it (nothing for other methods). */
function withBotToken(method: string, params: IDataObject, botToken: string): IDataObject {
	const parameter = botTokenParameterOf(method);
	if (parameter !== undefined) return { ...params, [parameter]: botToken };
	if (method !== 'batch' || !isObject(params.cmd)) return params;
	// Each command of a batch call is `method?query`: the token joins the query of the bot's commands.
	const cmd: IDataObject = {};
	for (const [key, command] of Object.entries(params.cmd)) {
		const text = String(command);
		const commandParameter = botTokenParameterOf(text.split('?')[0].toLowerCase());
		cmd[key] =
			commandParameter === undefined
				? command
				: `${text}${text.includes('?') ? '&' : '?'}${commandParameter}=${encodeURIComponent(botToken)}`;
	}
	return { ...params, cmd };
}

/** A rule for Bitrix24's `error` code in the test call's answer. */
function refusal(code: string, message: string) {
	return {
		type: 'responseSuccessBody' as const,
		properties: { key: 'error', value: code, message },
	};
}
