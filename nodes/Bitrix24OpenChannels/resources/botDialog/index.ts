import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { readEnvelope } from '../../../shared/transport';
import { METHODS } from '../../../shared/methods';
import { executeFinish } from './executeFinish';
import { botOptionsField } from './fields';
import { executeGetHistory } from './executeGetHistory';
import { executeHandOver } from './executeHandOver';
import { executeSendMessage } from './executeSendMessage';
import { executeTransfer } from './executeTransfer';
import { finishDescription } from './finish';
import { getHistoryDescription } from './getHistory';
import { handOverDescription } from './handOver';
import { sendMessageDescription } from './sendMessage';
import { transferDescription } from './transfer';

/** An operation whose executor n8n calls once per item (see crmChat's executeSendMessage). */
function operation(
	option: Omit<INodePropertyOptions, 'routing'>,
	method: string,
	pagination: NonNullable<NonNullable<INodePropertyOptions['routing']>['operations']>['pagination'],
): INodePropertyOptions {
	return {
		...option,
		routing: {
			request: { method: 'POST', url: `${method}.json` },
			send: { paginate: true },
			operations: { pagination },
			output: { postReceive: [readEnvelope] },
		},
	};
}

export const botDialogDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['botDialog'] } },
		options: [
			operation(
				{
					name: 'Finish',
					value: 'finish',
					action: 'Finish the dialog as the bot',
					description: "Close the dialog's session on behalf of the bot",
				},
				METHODS.botFinish,
				executeFinish,
			),
			operation(
				{
					name: 'Get History',
					value: 'getHistory',
					action: 'Get the messages of the dialog',
					description:
						"Read the messages of the dialog's session in order, one item each (context for an AI agent)",
				},
				METHODS.sessionHistory,
				executeGetHistory,
			),
			operation(
				{
					name: 'Hand Over to Operator',
					value: 'handOver',
					action: 'Hand the dialog over to an operator',
					description:
						"Pass the dialog from the bot to a free operator of the open channel's queue",
				},
				METHODS.botHandOver,
				executeHandOver,
			),
			operation(
				{
					name: 'Send Message',
					value: 'sendMessage',
					action: 'Send a message as the bot',
					description:
						'Post a message (with an attachment and buttons) as the bot into an open channel dialog; it reaches the customer on Telegram, WhatsApp, live chat and other channels',
				},
				METHODS.botSendMessage,
				executeSendMessage,
			),
			operation(
				{
					name: 'Transfer',
					value: 'transfer',
					action: 'Transfer the dialog to a user or another open channel',
					description: 'Pass the dialog from the bot to an employee or to an open channel queue',
				},
				METHODS.botTransfer,
				executeTransfer,
			),
		],
		default: 'sendMessage',
	},
	...sendMessageDescription,
	...handOverDescription,
	...transferDescription,
	...finishDescription,
	...getHistoryDescription,
	botOptionsField,
];
