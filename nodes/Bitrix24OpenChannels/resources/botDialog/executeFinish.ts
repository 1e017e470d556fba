import type {
	DeclarativeRestApiSettings,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { METHODS } from '../../../shared/methods';
import { confirmed, runBotItem, type BotOperation } from './runBotItem';
import { requireChatId } from './validation';

const finish: BotOperation = {
	callOf: (context) => {
		const chatId = requireChatId(
			context.getNodeParameter('dialogChatId', '', { extractValue: true }),
		);
		// Over a webhook the credential adds the Bot Token as CLIENT_ID: it names the bot that closes the dialog.
		return { method: METHODS.botFinish, params: { CHAT_ID: chatId }, chatId, target: { chatId } };
	},
	outputOf: (result, call) =>
		confirmed(result, call.method) ?? [{ chatId: call.chatId, finished: true }],
};

/** Closes the dialog's session on behalf of the bot. */
export async function executeFinish(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	return await runBotItem(this, requestData, finish);
}
