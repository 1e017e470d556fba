import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { Bitrix24Failure } from '../../../shared/errors';
import { isObject } from '../../../shared/json';
import { METHODS } from '../../../shared/methods';
import { positiveIdOf } from '../../../shared/validation';
import { runBotItem, type BotCall, type BotOperation } from './runBotItem';
import { requireChatId, requireId } from './validation';

/** Who wrote a message, for an AI agent or a transcript: the customer, a bot, an operator, or the line itself. */
function authorRole(senderId: number, user: IDataObject | undefined): string {
	if (senderId === 0) return 'system';
	if (user?.connector === true) return 'customer';
	if (user?.bot === true || user?.type === 'bot') return 'bot';
	return 'operator';
}

/** One item per message, oldest first (Bitrix24 keys them by ID, newest first in `usersMessage`). */
function messagesOf(result: unknown, call: BotCall): IDataObject[] | Bitrix24Failure {
	if (!isObject(result))
		return new Bitrix24Failure(
			'UNEXPECTED_RESPONSE',
			'The answer carried no history.',
			200,
			undefined,
			call.method,
		);
	const users = isObject(result.users) ? result.users : {};
	const messages = Object.values(isObject(result.message) ? result.message : {}).filter(isObject);
	return messages
		.map((message) => {
			const senderId = positiveIdOf(message.senderid) ?? 0;
			const user = users[String(senderId)];
			const author = isObject(user) ? user : undefined;
			return {
				chatId: positiveIdOf(message.chatid) ?? call.chatId,
				sessionId: positiveIdOf(result.sessionId) ?? null,
				messageId: positiveIdOf(message.id) ?? 0,
				date: typeof message.date === 'string' ? message.date : null,
				authorId: senderId,
				authorName: typeof author?.name === 'string' ? author.name : '',
				authorRole: authorRole(senderId, author),
				text: typeof message.text === 'string' ? message.text : '',
			};
		})
		.sort((a, b) => a.messageId - b.messageId);
}

const getHistory: BotOperation = {
	callOf: (context) => {
		const chatId = requireChatId(
			context.getNodeParameter('dialogChatId', '', { extractValue: true }),
		);
		const sessionId = context.getNodeParameter('sessionId', '') as unknown;
		const session =
			sessionId === undefined || sessionId === null || String(sessionId).trim() === ''
				? {}
				: { SESSION_ID: requireId(sessionId, 'Session ID', 'SESSION_ID') };
		return {
			method: METHODS.sessionHistory,
			params: { CHAT_ID: chatId, ...session },
			chatId,
			target: { chatId },
		};
	},
	outputOf: messagesOf,
};

/** Reads the messages of the dialog's session, in order, one item each (the context an AI agent needs). */
export async function executeGetHistory(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	return await runBotItem(this, requestData, getHistory);
}
