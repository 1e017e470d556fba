import type {
	DeclarativeRestApiSettings,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { METHODS } from '../../../shared/methods';
import { confirmed, runBotItem, type BotOperation } from './runBotItem';
import { requireChatId } from './validation';

const handOver: BotOperation = {
	callOf: (context) => {
		const chatId = requireChatId(
			context.getNodeParameter('dialogChatId', '', { extractValue: true }),
		);
		return { method: METHODS.botHandOver, params: { CHAT_ID: chatId }, chatId, target: { chatId } };
	},
	outputOf: (result, call) =>
		confirmed(result, call.method) ?? [{ chatId: call.chatId, handedOver: true }],
};

/** Passes the dialog from the bot to a free operator of the open channel's queue. */
export async function executeHandOver(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	return await runBotItem(this, requestData, handOver);
}
