import type {
	DeclarativeRestApiSettings,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { METHODS } from '../../../shared/methods';
import { confirmed, runBotItem, type BotOperation } from './runBotItem';
import { requireChatId, requireId } from './validation';

const transfer: BotOperation = {
	callOf: (context) => {
		const chatId = requireChatId(
			context.getNodeParameter('dialogChatId', '', { extractValue: true }),
		);
		const toChannel = context.getNodeParameter('transferTo', 'user') === 'openChannel';
		const targetId = toChannel
			? requireId(
					context.getNodeParameter('openChannelId', '', { extractValue: true }),
					'Open Channel',
					'QUEUE_ID',
				)
			: requireId(
					context.getNodeParameter('transferUserId', '', { extractValue: true }),
					'User',
					'USER_ID',
				);
		const leave = context.getNodeParameter('leaveChat', false) === true;
		// One target only: Bitrix24 reads TRANSFER_ID first and lets it overwrite the others.
		return {
			method: METHODS.botTransfer,
			params: {
				CHAT_ID: chatId,
				[toChannel ? 'QUEUE_ID' : 'USER_ID']: targetId,
				LEAVE: leave ? 'Y' : 'N',
			},
			chatId,
			target: { chatId, transferTo: `${toChannel ? 'open channel' : 'user'} ${targetId}` },
		};
	},
	outputOf: (result, call) =>
		confirmed(result, call.method) ?? [
			{
				chatId: call.chatId,
				transferredTo: call.params.QUEUE_ID !== undefined ? 'openChannel' : 'user',
				...(call.params.QUEUE_ID !== undefined
					? { openChannelId: call.params.QUEUE_ID }
					: { userId: call.params.USER_ID }),
				botLeft: call.params.LEAVE === 'Y',
			},
		],
};

/** Transfers the dialog from the bot to an employee or to an open channel's queue. */
export async function executeTransfer(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	return await runBotItem(this, requestData, transfer);
}
