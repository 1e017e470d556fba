import type { INodeProperties } from 'n8n-workflow';

import { chatIdField, forOperations, idLocator } from './fields';

export const transferDescription: INodeProperties[] = [
	chatIdField('transfer'),
	{
		displayName: 'Transfer To',
		name: 'transferTo',
		type: 'options',
		default: 'user',
		options: [
			{ name: 'User', value: 'user', description: 'An employee of the portal' },
			{
				name: 'Open Channel',
				value: 'openChannel',
				description: "The queue of another open channel (or this one's)",
			},
		],
		displayOptions: forOperations('transfer'),
	},
	idLocator({
		displayName: 'User',
		name: 'transferUserId',
		description: 'The active employee who gets the dialog',
		placeholder: '27',
		searchListMethod: 'getOperators',
		searchable: true,
		displayOptions: {
			show: { resource: ['botDialog'], operation: ['transfer'], transferTo: ['user'] },
		},
	}),
	idLocator({
		displayName: 'Open Channel',
		name: 'openChannelId',
		description: 'The open channel whose queue gets the dialog',
		placeholder: '7',
		searchListMethod: 'getOpenChannels',
		searchable: false,
		displayOptions: {
			show: { resource: ['botDialog'], operation: ['transfer'], transferTo: ['openChannel'] },
		},
	}),
	{
		displayName: 'Bot Leaves the Chat',
		name: 'leaveChat',
		type: 'boolean',
		default: false,
		description:
			'Whether the bot leaves the chat at once; otherwise it stays until the new operator accepts the dialog',
		displayOptions: forOperations('transfer'),
	},
];
