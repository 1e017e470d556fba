import type { INodeProperties } from 'n8n-workflow';

import { MAX_BATCH_COMMANDS } from '../../../shared/batching';

const showOnlyForSendMessage = {
	resource: ['crmChat'],
	operation: ['sendMessage'],
};

/** The node's own fields, each value typed or mapped with an expression (the default). */
const showWhenDefinedBelow = { ...showOnlyForSendMessage, input: ['defineBelow'] };

/** The input item's fields, read by name: no expression per item. */
const showWhenFromInputFields = { ...showOnlyForSendMessage, input: ['inputFields'] };

/** A parameter naming the input item's field that holds one value of the message. */
function inputFieldName(
	displayName: string,
	name: string,
	fieldName: string,
	holds: string,
	show: { [parameter: string]: string[] } = showWhenFromInputFields,
): INodeProperties {
	return {
		displayName,
		name,
		type: 'string',
		default: fieldName,
		required: true,
		placeholder: fieldName,
		description: `Name of the top-level field of each input item that holds ${holds}`,
		displayOptions: { show },
	};
}

interface IdLocatorOptions {
	displayName: string;
	/** The node parameter. */
	name: string;
	/** The Bitrix24 parameter the ID is sent as. */
	bitrixParameter: string;
	description: string;
	placeholder: string;
	/** The node's `methods.listSearch` method behind "From List". */
	searchListMethod: string;
	/** Whether the list filters by typed text on the portal (users do; an entity's few chats need not). */
	searchable: boolean;
	show?: { [parameter: string]: string[] };
}

/** A resource locator of a Bitrix24 numeric ID: picked from a list, or entered (or mapped) by ID. */
function idLocator(options: IdLocatorOptions): INodeProperties {
	const {
		displayName,
		name,
		bitrixParameter,
		description,
		placeholder,
		searchListMethod,
		searchable,
	} = options;
	return {
		displayName,
		name,
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description,
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: `Select a ${displayName.toLowerCase()}...`,
				typeOptions: { searchListMethod, searchable },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder,
				validation: [
					{
						type: 'regex',
						properties: {
							regex: '^\\s*[1-9][0-9]*\\s*$',
							errorMessage: 'Enter a positive whole number',
						},
					},
				],
			},
		],
		displayOptions: { show: options.show ?? showOnlyForSendMessage },
		routing: { send: { type: 'body', property: bitrixParameter } },
	};
}

export const sendMessageDescription: INodeProperties[] = [
	{
		displayName: 'Input',
		name: 'input',
		type: 'options',
		noDataExpression: true,
		default: 'defineBelow',
		description: 'Where the CRM entity, sender, chat and message of each item come from',
		options: [
			{
				name: 'Define Below',
				value: 'defineBelow',
				description: 'Set each field below, with fixed values or expressions',
			},
			{
				name: 'Take From Input Fields',
				value: 'inputFields',
				description:
					"Read them from each input item's fields by name, with no expression per item: much faster for thousands of messages",
			},
		],
		displayOptions: { show: showOnlyForSendMessage },
	},
	inputFieldName(
		'CRM Entity Type Field',
		'crmEntityTypeField',
		'crmEntityType',
		'lead, deal, company or contact',
	),
	inputFieldName(
		'CRM Entity ID Field',
		'crmEntityIdField',
		'crmEntityId',
		'the ID of the lead, deal, company or contact',
	),
	inputFieldName(
		'Sender Field',
		'userIdField',
		'userId',
		'the ID of the user or bot who sends the message',
	),
	{
		displayName: 'CRM Entity Type',
		name: 'crmEntityType',
		type: 'options',
		default: 'lead',
		description: 'Kind of CRM record the open channel chat is linked to',
		options: [
			{ name: 'Lead', value: 'lead' },
			{ name: 'Deal', value: 'deal' },
			{ name: 'Company', value: 'company' },
			{ name: 'Contact', value: 'contact' },
		],
		displayOptions: { show: showWhenDefinedBelow },
		routing: { send: { type: 'body', property: 'CRM_ENTITY_TYPE' } },
	},
	{
		displayName: 'CRM Entity ID',
		name: 'crmEntityId',
		type: 'string',
		default: '',
		required: true,
		placeholder: '1195',
		description: 'ID of the lead, deal, company or contact, e.g. from the trigger: {{ $JSON.ID }}',
		displayOptions: { show: showWhenDefinedBelow },
		routing: { send: { type: 'body', property: 'CRM_ENTITY' } },
	},
	idLocator({
		displayName: 'Sender',
		name: 'userId',
		bitrixParameter: 'USER_ID',
		description: 'User or bot who sends the message; they must be a member of the chat',
		placeholder: '27',
		searchListMethod: 'getSenders',
		searchable: true,
		show: showWhenDefinedBelow,
	}),
	{
		displayName: 'Send To',
		name: 'chatSource',
		type: 'options',
		default: 'specificChat',
		description: 'Which open channel chat of the CRM entity gets the message',
		options: [
			{
				name: 'Specific Chat',
				value: 'specificChat',
				description: 'A chat picked from the list or given by ID',
			},
			{
				name: 'Active Chat of the CRM Entity',
				value: 'activeChat',
				description:
					"At run time, the entity's most recent chat whose dialog is in progress; items without one fail with NO_ACTIVE_CHAT",
			},
		],
		displayOptions: { show: showOnlyForSendMessage },
	},
	inputFieldName('Chat Field', 'chatIdField', 'chatId', 'the ID of the open channel chat', {
		...showWhenFromInputFields,
		chatSource: ['specificChat'],
	}),
	idLocator({
		displayName: 'Chat',
		name: 'chatId',
		bitrixParameter: 'CHAT_ID',
		description:
			'Open channel chat linked to the CRM entity; its dialog must be in progress (taken by an operator)',
		placeholder: '1341',
		searchListMethod: 'getChats',
		searchable: false,
		show: { ...showWhenDefinedBelow, chatSource: ['specificChat'] },
	}),
	inputFieldName('Message Field', 'messageField', 'message', 'the text to send'),
	{
		displayName: 'Message',
		name: 'message',
		type: 'string',
		default: '',
		required: true,
		typeOptions: { rows: 4 },
		placeholder: 'Your order has shipped.',
		description:
			'Text to send, up to 20,000 characters. BB codes such as [b]bold[/b] and [URL=https://...]link[/URL] work; Markdown does not.',
		displayOptions: { show: showWhenDefinedBelow },
		routing: { send: { type: 'body', property: 'MESSAGE' } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: showOnlyForSendMessage },
		options: [
			{
				displayName: 'Send in Batches',
				name: 'sendInBatches',
				type: 'boolean',
				default: true,
				description:
					"Whether to group the run's messages into Bitrix24 batch calls of up to 50 (each counts as one request against the portal's limit), instead of one request per message",
			},
			{
				displayName: 'Add Sender to Chat',
				name: 'addSenderToChat',
				type: 'boolean',
				default: false,
				description:
					'Whether to add the sender to the chat and send once more when Bitrix24 refuses the message because the sender is not a member (CANCELED)',
			},
			{
				displayName: 'Batch Size',
				name: 'batchSize',
				type: 'number',
				default: MAX_BATCH_COMMANDS,
				typeOptions: { minValue: 1, maxValue: MAX_BATCH_COMMANDS },
				description:
					'How many messages go into one batch call when sending in batches (Bitrix24 allows at most 50)',
			},
		],
	},
];
