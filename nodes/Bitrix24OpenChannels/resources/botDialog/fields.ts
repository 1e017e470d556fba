import type { INodeProperties } from 'n8n-workflow';

import { MAX_BATCH_COMMANDS } from '../../../shared/batching';

/** Shows a parameter for the Bot Dialog operations named. */
export const forOperations = (...operation: string[]) => ({
	show: { resource: ['botDialog'], operation },
});

const ID_VALIDATION = [
	{
		type: 'regex' as const,
		properties: { regex: '^\\s*[1-9][0-9]*\\s*$', errorMessage: 'Enter a positive whole number' },
	},
];

/** A numeric Bitrix24 ID picked from a list or entered (or mapped) by ID. */
export function idLocator(
	options: Pick<INodeProperties, 'displayName' | 'name' | 'description' | 'placeholder'> & {
		searchListMethod: string;
		searchable: boolean;
		displayOptions: INodeProperties['displayOptions'];
	},
): INodeProperties {
	return {
		displayName: options.displayName,
		name: options.name,
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: options.description,
		displayOptions: options.displayOptions,
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: `Select a ${options.displayName.toLowerCase()}...`,
				typeOptions: {
					searchListMethod: options.searchListMethod,
					searchable: options.searchable,
				},
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: options.placeholder,
				validation: ID_VALIDATION,
			},
		],
	};
}

/**
 * The open channel chat every Bot Dialog operation acts on: picked from the dialogs Bitrix24 lists, or its ID or
 * dialog ID (chat2001) entered or mapped. Workflows saved when this was a plain text field keep their value.
 */
export const chatIdField = (...operations: string[]): INodeProperties => ({
	displayName: 'Chat',
	name: 'dialogChatId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description:
		'The open channel chat of the dialog, e.g. from the Open Channels Trigger: {{ $JSON.chatId }}',
	displayOptions: forOperations(...operations),
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: 'Select a dialog...',
			typeOptions: { searchListMethod: 'getBotDialogs', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: '2001',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: '^\\s*(chat)?[1-9][0-9]*\\s*$',
						errorMessage: 'Enter the chat ID (2001) or dialog ID (chat2001)',
					},
				},
			],
		},
	],
});

/** How the run's calls go out, for every Bot Dialog operation. */
export const botOptionsField: INodeProperties = {
	displayName: 'Options',
	name: 'botOptions',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	displayOptions: { show: { resource: ['botDialog'] } },
	options: [
		{
			displayName: 'Send in Batches',
			name: 'sendInBatches',
			type: 'boolean',
			default: true,
			description:
				"Whether to group the run's calls into Bitrix24 batch calls of up to 50 (each counts as one request against the portal's limit), instead of one request per item",
		},
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			default: MAX_BATCH_COMMANDS,
			typeOptions: { minValue: 1, maxValue: MAX_BATCH_COMMANDS },
			description: 'How many calls go into one batch call (Bitrix24 allows at most 50)',
		},
	],
};
