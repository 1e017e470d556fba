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
		typeOptions: { rows: 4 },
		placeholder: 'Your order ships tomorrow.',
		description:
			'Up to 20,000 characters. BB codes such as [b]bold[/b], [URL=https://...]link[/URL] and [br] work; Markdown does not. May be empty when the message has an attachment.',
		displayOptions: show,
	},
	{
		displayName: 'Attachment (JSON)',
		name: 'attachment',
		type: 'json',
		default: '',
		placeholder:
			'[{"LINK": {"NAME": "Order #1045", "LINK": "https://shop.example.com/orders/1045"}}, {"IMAGE": [{"LINK": "https://shop.example.com/1045.jpg"}]}]',
		description:
			'Optional rich blocks under the text, in Bitrix24\'s attach format: a list of blocks (MESSAGE, LINK, USER, GRID, IMAGE, FILE, DELIMITER) or {"COLOR_TOKEN": "primary", "BLOCKS": [...]}. Links must start with https://, http:// or /; at most 60,000 characters. Checked before sending.',
		hint: 'See Bitrix24\'s "Attachments in Messages ATTACH" for each block\'s fields',
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
								description:
									"Sends the bot the command (the value, one word): list it in the trigger's Button Commands, whose Command event tells the press",
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
