import type { INodeProperties } from 'n8n-workflow';

import { executeSendMessage } from './executeSendMessage';
import { readEnvelope } from '../../../shared/transport';
import { sendMessageDescription } from './sendMessage';

export const crmChatDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['crmChat'] } },
		options: [
			{
				name: 'Send Message',
				value: 'sendMessage',
				action: 'Send a message to the open channel chat of a CRM entity',
				description:
					'Post a message into the open channel chat linked to a lead, deal, company or contact',
				routing: {
					request: { method: 'POST', url: 'imopenlines.crm.message.add.json' },
					// Not pagination: n8n calls this routing function once per item (see executeSendMessage).
					send: { paginate: true },
					operations: { pagination: executeSendMessage },
					output: { postReceive: [readEnvelope] },
				},
			},
		],
		default: 'sendMessage',
	},
	...sendMessageDescription,
];
