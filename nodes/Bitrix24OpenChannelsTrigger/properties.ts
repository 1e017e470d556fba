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

export const triggerProperties: INodeProperties[] = [
	authenticationProperty,
	{
		displayName: 'Mode',
		name: 'mode',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Instant',
				value: 'instant',
				description:
					"Bitrix24 posts each event to this workflow's production URL as it happens; n8n must be reachable from the internet",
			},
			{
				name: 'Polling',
				value: 'polling',
				description:
					"Fetches the bot's events from Bitrix24 at the Poll Times; works without a public URL",
			},
		],
		default: 'instant',
	},
	{
		displayName:
			'In Instant mode events arrive as they happen: Poll Times are not used. Activating the workflow registers the bot (or points the existing one at this workflow); deactivating switches it to keeping its events in Bitrix24.',
		name: 'instantNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { mode: ['instant'] } },
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		required: true,
		options: [
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
					'Whether to skip messages written by operators and bots (the bot hears every message of a chat it is in)',
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
