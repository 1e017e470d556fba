import type { INodeProperties } from 'n8n-workflow';

import { chatIdField, forOperations, idLocator } from './fields';

const show = forOperations('sendMessage');

export const sendMessageDescription: INodeProperties[] = [
	idLocator({
		displayName: 'Bot',
		name: 'botId',
		description:
			'The chat bot that answers, e.g. from the Open Channels Trigger: {{ $JSON.botId }}. Over an inbound webhook the credential needs its Bot Token.',
		placeholder: '39',
		searchListMethod: 'getBots',
		searchable: true,
		displayOptions: show,
	}),
	chatIdField('sendMessage'),
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		default: '',
		required: true,
		typeOptions: { rows: 4 },
		placeholder: 'Your order ships tomorrow.',
		description:
			'Up to 20,000 characters. BB codes such as [b]bold[/b], [URL=https://...]link[/URL] and [br] work; Markdown does not.',
		displayOptions: show,
	},
	{
		displayName: 'Buttons',
		name: 'buttons',
		type: 'fixedCollection',
		placeholder: 'Add Button',
		default: {},
		typeOptions: { multipleValues: true },
		description: 'Buttons under the message (a keyboard), in order',
		displayOptions: show,
		options: [
			{
				displayName: 'Button',
				name: 'button',
				values: [
					{
						displayName: 'Text',
						name: 'text',
						type: 'string',
						default: '',
						placeholder: 'Talk to a human',
						description: 'Label of the button',
					},
					{
						displayName: 'Type',
						name: 'type',
						type: 'options',
						default: 'send',
						options: [
							{
								name: 'Send Text',
								value: 'send',
								description: "The customer's client sends the value as the customer's message",
							},
							{ name: 'Open Link', value: 'link', description: 'Opens the value, a URL' },
							{
								name: 'Bot Command',
								value: 'command',
								description: 'Runs a command registered by the bot (the value)',
							},
						],
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: 'operator',
						description: 'The text to send, the URL to open, or the command',
					},
					{
						displayName: 'Start New Row',
						name: 'newRow',
						type: 'boolean',
						default: false,
						description: 'Whether this button starts a new row',
					},
				],
			},
		],
	},
];
