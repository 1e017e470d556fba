import type { INodeProperties } from 'n8n-workflow';

import { chatIdField, forOperations } from './fields';

export const getHistoryDescription: INodeProperties[] = [
	chatIdField('getHistory'),
	{
		displayName: 'Options',
		name: 'historyOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: forOperations('getHistory'),
		options: [
			{
				displayName: 'Session ID',
				name: 'sessionId',
				type: 'string',
				default: '',
				placeholder: '343',
				description:
					"One session (dialog) of the chat instead of its latest, e.g. the trigger's sessionId",
			},
		],
	},
];
