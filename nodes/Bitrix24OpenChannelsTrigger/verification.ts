import type { IDataObject } from 'n8n-workflow';

import type { BotIdentity } from '../shared/botIdentity';
import { isObject } from '../shared/json';
import { METHODS } from '../shared/methods';
import { editorRequest, type DirectContext } from '../shared/transport';
import { secretsOf } from './bot';
import { sha256 } from './state';

/**
 * What the portal says of an event whose application_token is not (or no longer) the pinned one:
 * - `pin`: the message is on the portal as the event describes it (ID, author, text): a forger would have to know
 *   a real message word for word, so the token it came with is Bitrix24's;
 * - `accept`: the dialog exists, which proves too little to pin a token: Dialog Started, and a Command, since a
 *   button press posts no message (CIMMessenger::ExecCommand), so nothing on the portal records it word for word;
 * - `refuse`: the portal does not know it, or could not be asked.
 */
export type Confirmation = 'pin' | 'accept' | 'refuse';

const textOf = (value: unknown): string =>
	typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';

/**
 * The one key of an event for de-duplication: a message, an edit to one text, a dialog's session, a command of a
 * message (with its parameters: two buttons of one message may share a command). A press carries no ID of its own,
 * so the same button pressed again on the same message is taken for a repeated delivery.
 */
export function eventKey(item: IDataObject): string {
	if (item.event === 'command') {
		const params = sha256(textOf(item.commandParams)).slice(0, 16);
		return `command:${item.messageId}:${textOf(item.command)}:${params}`;
	}
	if (item.event === 'dialogStarted') return `dialogStarted:${item.chatId}:${item.sessionId}`;
	if (item.event === 'messageEdited')
		return `messageEdited:${item.messageId}:${sha256(textOf(item.text)).slice(0, 16)}`;
	return `message:${item.messageId}`;
}

/** Asks the portal for the event's session (imopenlines.session.history.get) and compares. */
export async function confirmWithPortal(
	context: DirectContext,
	identity: BotIdentity,
	item: IDataObject,
): Promise<Confirmation> {
	const chatId = Number(item.chatId);
	const sessionId = Number(item.sessionId);
	if (!(chatId > 0) || !(sessionId > 0)) return 'refuse';
	let history: unknown;
	try {
		history = (
			await editorRequest(
				context,
				METHODS.sessionHistory,
				{ CHAT_ID: chatId, SESSION_ID: sessionId },
				secretsOf(identity),
			)
		).result;
	} catch {
		return 'refuse';
	}
	if (!isObject(history) || Number(history.chatId) !== chatId) return 'refuse';
	if (item.event === 'dialogStarted' || item.event === 'command') return 'accept';
	const messages = isObject(history.message) ? history.message : {};
	const message = messages[String(item.messageId)];
	const author = isObject(item.author) ? item.author : {};
	return isObject(message) &&
		Number(message.chatid) === chatId &&
		Number(message.senderid) === Number(author.id) &&
		textOf(message.text) === textOf(item.text)
		? 'pin'
		: 'refuse';
}
