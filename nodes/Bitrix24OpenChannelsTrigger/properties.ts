import type { INodeProperties } from 'n8n-workflow';
import { authenticationProperty } from '../shared/authentication';

/** An open channel: from the portal's list (imopenlines.config.list.get) or by ID. */
const openChannelLocator: INodeProperties = {
	displayName: 'Open Channel',
	name: 'line',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'getOpenChannels', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. 1',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: '^[1-9][0-9]*$',
						errorMessage: 'An open channel ID is a whole number',
					},
				},
			],
		},
	],
};

const modeProperty: INodeProperties = {
	displayName: 'Mode',
	name: 'mode',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Reliable (Recommended)',
			value: 'reliable',
			description:
				"Reads the bot's events from Bitrix24 continuously: nothing is lost while n8n is down, no public URL needed, replies within about 2 s",
		},
		{
			name: 'Instant',
			value: 'instant',
			description:
				"Bitrix24 posts each event to this workflow's production URL once: fastest, but events are lost while n8n is down; n8n must be reachable from the internet",
		},
		{
			name: 'Polling',
			value: 'polling',
			description:
				"Reads the bot's events at the Poll Times (at most once a minute); nothing is lost",
		},
	],
	default: 'reliable',
};

export const triggerProperties: INodeProperties[] = [
	authenticationProperty,
	// Version 1 (saved workflows) keeps Instant as its default; version 2, what new workflows get, is Reliable.
	{ ...modeProperty, default: 'instant', displayOptions: { show: { '@version': [1] } } },
	{ ...modeProperty, default: 'reliable', displayOptions: { hide: { '@version': [1] } } },
	{
		displayName:
			"Reliable mode keeps customers' messages in Bitrix24 until n8n has started an execution for each, so none is lost while n8n restarts or is down, and needs no public URL. It reads every 1.5 s during a conversation and every 5 s when idle (a tenth of the Requests per Second budget).",
		name: 'reliableNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { mode: ['reliable'] } },
	},
	{
		displayName:
			'In Instant mode Bitrix24 posts each event once: whatever customers write while n8n restarts, is stopped or cannot be reached is lost, and n8n must be reachable from the internet. Reliable mode loses nothing. Poll Times are not used.',
		name: 'instantNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { mode: ['instant'] } },
	},
	{
		displayName:
			'When the workflow is deactivated, deleted or n8n stops, the open channels below get their own welcome-bot setting back: new dialogs go to operators at once. Messages in dialogs the bot already holds wait in Bitrix24 (up to 24 hours) and start executions when the workflow runs again (Reliable and Polling modes).',
		name: 'offNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		required: true,
		options: [
			{
				name: 'Command (Button Pressed)',
				value: 'command',
				description:
					'The customer pressed a button whose type is Bot Command; the item has the command, to route on',
			},
			{
				name: 'Customer Message',
				value: 'message',
				description: 'A message in an open channel chat the bot is in',
			},
			{
				name: 'Dialog Started (Bot Joined)',
				value: 'dialogStarted',
				description: 'The bot joined a new dialog as the open channel welcome bot',
			},
			{
				name: 'Message Edited',
				value: 'messageEdited',
				description: 'A message in a chat the bot is in was changed',
			},
		],
		default: ['message'],
	},
	{
		displayName: 'Bot Code',
		name: 'botCode',
		type: 'string',
		required: true,
		default: 'n8n_open_channels',
		description:
			'Identifies the chatbot in Bitrix24: one trigger per code and credential. Use the same code in the Bot operations of the Bitrix24 Open Channels node.',
	},
	{
		displayName: 'Bot Name',
		name: 'botName',
		type: 'string',
		default: 'n8n Assistant',
		description: 'The name customers and operators see',
	},
	{
		displayName: 'Attach Bot to Open Channels',
		name: 'attachTo',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Open Channel',
		default: {},
		description:
			"On activation, make the bot each channel's welcome bot: it joins every new dialog and leaves when the dialog goes to an operator. Leave empty to set this in Contact Center yourself.",
		options: [{ name: 'channels', displayName: 'Open Channel', values: [openChannelLocator] }],
	},
	{
		displayName: 'Button Commands',
		name: 'buttonCommands',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Command',
		default: {},
		description:
			'Commands your Send Message buttons of type Bot Command send (their Value). Activating the workflow registers them with the bot: Bitrix24 reports a press only for a registered command.',
		options: [
			{
				name: 'command',
				displayName: 'Command',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. operator',
						description: 'One word, without a slash: the Value of the buttons that send it',
					},
					{
						displayName: 'Description',
						name: 'description',
						type: 'string',
						default: '',
						placeholder: 'e.g. Talk to a person',
						description:
							"Shown to employees in Bitrix24's command list; leave empty to keep the command hidden (buttons still send it)",
					},
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Customer Messages Only',
				name: 'customerMessagesOnly',
				type: 'boolean',
				default: true,
				description:
					'Whether to skip messages written (and buttons pressed) by operators and bots (the bot hears every message of a chat it is in)',
			},
			{
				displayName: 'Only From Open Channels',
				name: 'onlyFrom',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				placeholder: 'Add Open Channel',
				default: {},
				description: 'Emit events of these open channels only; empty: every channel the bot is in',
				options: [{ name: 'channels', displayName: 'Open Channel', values: [openChannelLocator] }],
			},
		],
	},
];
