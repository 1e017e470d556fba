import { NodeConnectionTypes, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { getBotDialogs } from './listSearch/getBotDialogs';
import { getBots } from './listSearch/getBots';
import { getChats } from './listSearch/getChats';
import { getOpenChannels } from '../shared/listSearch/getOpenChannels';
import { getOperators } from './listSearch/getOperators';
import { getSenders } from './listSearch/getSenders';
import { botDialogDescription } from './resources/botDialog';
import { crmChatDescription } from './resources/crmChat';
import { credentialChoice, authenticationProperty } from '../shared/authentication';

export class Bitrix24OpenChannels implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Bitrix24 Open Channels',
		name: 'bitrix24OpenChannels',
		icon: { light: 'file:../../icons/bitrix24.svg', dark: 'file:../../icons/bitrix24.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle:
			'={{ $parameter["resource"] === "botDialog" ? "Bot: " + $parameter["operation"] : $parameter["operation"] === "sendMessage" ? "Send to " + $parameter["crmEntityType"] + " chat" : $parameter["operation"] }}',
		description:
			'Send messages into Bitrix24 open channel chats linked to CRM leads, deals, contacts and companies, and answer customers as a chat bot',
		defaults: { name: 'Bitrix24 Open Channels' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: credentialChoice,
		// No baseURL: the webhook credential sets its own, and the node sets <portal>/rest for OAuth once per
		// request rather than n8n evaluating an expression for every item. No ignoreHttpStatusErrors: status
		// errors reject, n8n refreshes OAuth tokens on 401, and the node reads Bitrix24's error body from the
		// rejection, the same on every n8n line (1.x treats ignoreHttpStatusErrors as a plain flag).
		requestDefaults: {
			headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
			json: true,
		},
		properties: [
			authenticationProperty,
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Bot Dialog',
						value: 'botDialog',
						description:
							'Answer customers in open channel dialogs as a chat bot, hand them over, transfer or finish them',
					},
					{ name: 'CRM Chat', value: 'crmChat' },
				],
				// Saved workflows without a resource keep sending CRM chat messages.
				default: 'crmChat',
			},
			...crmChatDescription,
			...botDialogDescription,
		],
	};

	methods = {
		listSearch: { getBotDialogs, getBots, getChats, getOpenChannels, getOperators, getSenders },
	};
}
