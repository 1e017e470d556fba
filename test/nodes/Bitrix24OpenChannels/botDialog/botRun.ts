/** Running the node's Bot Dialog operations through n8n's engine against the emulator, as the tests here do. */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { callsAsked, SUPPORT_BOT_TOKEN, type Emulator } from '../../../../tools/emulator';
import { runNode, type RunOptions } from '../../../../tools/harness/runWorkflow';

/** The bot's webhook credential: the portal's webhook plus the bot's token. */
export const botCredential = (emulator: Emulator, botToken: string = SUPPORT_BOT_TOKEN) => ({
	type: 'bitrix24WebhookApi' as const,
	data: { webhookUrl: emulator.webhookUrl, ...(botToken === '' ? {} : { botToken }) },
});

/** Runs one Bot Dialog operation over the items, parameters mapped from them as a bot workflow maps the trigger's. */
export async function runBot(
	emulator: Emulator,
	operation: string,
	parameters: INodeParameters,
	items: IDataObject[],
	extra: Partial<RunOptions> = {},
) {
	return await runNode({
		credential: botCredential(emulator),
		items,
		parameters: { resource: 'botDialog', operation, ...parameters },
		onError: 'continueErrorOutput',
		...extra,
	});
}

/** Bot 39 and the chat from the item (`chatId`), the text from `text`. */
export const REPLY: INodeParameters = {
	botId: { __rl: true, mode: 'id', value: '={{ $json.botId ?? 39 }}' },
	dialogChatId: '={{ $json.chatId }}',
	text: '={{ $json.text }}',
};

/** The direct REST calls of one method the portal got (not batch commands), in arrival order. */
export const callsOf = (emulator: Emulator, method: string) =>
	emulator.requests.filter((request) => request.restMethod === method.toLowerCase());

/** The parameters of every call of one method the portal was asked for, alone or inside a batch. */
export const askedFor = (emulator: Emulator, method: string) =>
	callsAsked(emulator.requests, method);
