import type {
	DeclarativeRestApiSettings,
	IDataObject,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { Bitrix24Failure } from '../../../shared/errors';
import { isObject } from '../../../shared/json';
import { METHODS } from '../../../shared/methods';
import { LONE_SURROGATE, positiveIdOf } from '../../../shared/validation';
import { attachmentOf, LINK } from './attachment';
import { runBotItem, type BotCall, type BotOperation } from './runBotItem';
import { invalidField, requireChatId, requireId, requireText } from './validation';

interface ButtonParameters {
	text?: unknown;
	type?: unknown;
	value?: unknown;
	newRow?: unknown;
}

/** How each button action is written in Bitrix24's keyboard (message-keyboards.md). */
const BUTTON_ACTIONS: Record<string, (value: string) => IDataObject> = {
	send: (value) => ({ ACTION: 'SEND', ACTION_VALUE: value }),
	link: (value) => ({ LINK: value }),
	command: (value) => ({ COMMAND: value.replace(/^\//, '') }),
};

/** The keyboard's BUTTONS, each checked; the error names the button. */
function keyboardOf(parameter: unknown): IDataObject[] {
	const rows = isObject(parameter) && Array.isArray(parameter.button) ? parameter.button : [];
	return (rows as ButtonParameters[]).flatMap((button, index) => {
		const name = `Buttons > Button ${index + 1}`;
		const text = typeof button.text === 'string' ? button.text.trim() : '';
		const value = typeof button.value === 'string' ? button.value.trim() : '';
		const action = BUTTON_ACTIONS[String(button.type ?? 'send')];
		if (text === '') throw invalidField(name, 'keyboard', 'has no text');
		if (value === '') throw invalidField(name, 'keyboard', 'has no value');
		if (LONE_SURROGATE.test(text) || LONE_SURROGATE.test(value))
			throw invalidField(
				name,
				'keyboard',
				'has half of an emoji or other character (the text was probably cut inside it)',
			);
		if (action === undefined)
			throw invalidField(name, 'keyboard', `has an unknown type ${String(button.type)}`);
		// Bitrix24 reads a pressed button as "/COMMAND COMMAND_PARAMS", the command up to the first space.
		if (button.type === 'command' && /\s/.test(value))
			throw invalidField(
				name,
				'keyboard',
				'is a bot command with a space: Bitrix24 reads a command up to the first space (use one word, e.g. talk_to_person)',
			);
		if (button.type === 'link' && !LINK.test(value))
			throw invalidField(name, 'keyboard', 'needs a link starting with https://, http:// or /');
		const newRow = button.newRow === true && index > 0 ? [{ TYPE: 'NEWLINE' }] : [];
		return [...newRow, { TEXT: text, ...action(value) }];
	});
}

const sendMessage: BotOperation = {
	callOf: (context) => {
		const botId = requireId(
			context.getNodeParameter('botId', '', { extractValue: true }),
			'Bot',
			'botId',
		);
		const chatId = requireChatId(
			context.getNodeParameter('dialogChatId', '', { extractValue: true }),
		);
		const text = context.getNodeParameter('text', '');
		const attach = attachmentOf(context.getNodeParameter('attachment', ''));
		// With an attachment the text may be left out (Bitrix24 needs one of the two).
		const withoutText = attach !== undefined && String(text ?? '').trim() === '';
		const message = withoutText ? undefined : requireText(text);
		const keyboard = keyboardOf(context.getNodeParameter('buttons', {}));
		const fields: IDataObject = {
			...(message !== undefined ? { message } : {}),
			...(attach !== undefined ? { attach } : {}),
			...(keyboard.length > 0 ? { keyboard } : {}),
		};
		return {
			method: METHODS.botSendMessage,
			params: { botId, dialogId: `chat${chatId}`, fields },
			chatId,
			target: { chatId, botId },
		};
	},
	outputOf: (result: unknown, call: BotCall) => {
		const messageId = positiveIdOf(isObject(result) ? result.id : undefined);
		if (messageId === undefined)
			return new Bitrix24Failure(
				'UNEXPECTED_RESPONSE',
				'The answer carried no message ID.',
				200,
				undefined,
				call.method,
			);
		return [
			{
				messageId,
				chatId: call.chatId,
				dialogId: call.params.dialogId,
				botId: call.params.botId,
			},
		];
	},
};

/** Posts the item's text (and attachment, buttons) as the bot into the open channel chat. */
export async function executeSendMessage(
	this: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
): Promise<INodeExecutionData[]> {
	return await runBotItem(this, requestData, sendMessage);
}
