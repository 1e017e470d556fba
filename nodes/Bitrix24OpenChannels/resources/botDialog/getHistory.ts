import type { INodeProperties } from 'n8n-workflow';

import { chatIdField, forOperations } from './fields';

export const getHistoryDescription: INodeProperties[] = [
	chatIdField('getHistory'),
	{
		displayName: 'Session ID',
		name: 'sessionId',
		type: 'string',
		default: '',
		placeholder: '343',
		description:
			"One session (dialog) of the chat instead of its latest, e.g. the trigger's sessionId; leave empty for the latest",
		displayOptions: forOperations('getHistory'),
	},
];
