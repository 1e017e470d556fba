import { NodeOperationError } from 'n8n-workflow';
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { describeFailure, type Bitrix24Failure } from '../../shared/errors';
import { isObject } from '../../shared/json';
import { METHODS } from '../../shared/methods';
import { editorRequest } from '../../shared/transport';

/** Chats per page of im.recent.list (it allows up to 200). */
const PAGE_SIZE = 50;

/** imopenlines Session::STATUS_CLOSE: sessions at or above it are finished (closed, spam, duplicate). */
const SESSION_CLOSED = 60;

/** How people know the connectors (the first part of an open channel chat's entity_id). */
const CONNECTOR_NAMES: Record<string, string> = {
	livechat: 'Live chat',
	telegrambot: 'Telegram',
	whatsapp: 'WhatsApp',
	whatsappbytwilio: 'WhatsApp',
	whatsappbyedna: 'WhatsApp',
	viber: 'Viber',
	vkgroup: 'VK',
	facebook: 'Facebook',
	facebookcomments: 'Facebook comments',
	fbinstagramdirect: 'Instagram',
	imessage: 'Apple Messages',
	avito: 'Avito',
	olx: 'OLX',
	wechat: 'WeChat',
	network: 'Bitrix24.Network',
	notifications: 'Bitrix24 SMS and WhatsApp',
};

/** An entry of im.recent.list (api-reference/chats/im-recent-list.md), the fields the list shows. */
interface RecentItem {
	chat_id?: number | string;
	title?: string;
	chat?: { entity_type?: string; entity_id?: string };
	lines?: { status?: number | string };
}

const NO_DIALOGS_HINT =
	"The list shows the open channel dialogs in the recent chats of the credential's user (an operator of the line sees its dialogs); a dialog only the bot and the customer take part in is not among them. Enter the chat By ID, or map it from the Open Channels Trigger: {{ $json.chatId }}.";

/** "Telegram - Ivan Petrov - Customer support (chat 2001)", finished dialogs marked. */
function labelOf(item: RecentItem, chatId: string): string {
	const connector = String(item.chat?.entity_id ?? '').split('|')[0];
	const channel = CONNECTOR_NAMES[connector] ?? (connector || 'Open channel');
	const finished = Number(item.lines?.status ?? 0) >= SESSION_CLOSED ? ', finished' : '';
	return `${channel} - ${String(item.title || 'Dialog')} (chat ${chatId})${finished}`;
}

/**
 * Open channel dialogs for the Bot Dialog operations, newest first, searchable by channel, name or chat ID.
 * Bitrix24 has no method that lists a bot's chats (imbot.v2 has Chat.get only); im.recent.list lists the
 * credential user's recent chats, of which the open channel ones (entity_type LINES) are kept.
 */
export async function getBotDialogs(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const offset = Number(paginationToken ?? 0);
	let answer: Awaited<ReturnType<typeof editorRequest>>;
	try {
		answer = await editorRequest(this, METHODS.recentChats, {
			SKIP_DIALOG: 'Y',
			SKIP_OPENLINES: 'N',
			OFFSET: offset,
			LIMIT: PAGE_SIZE,
		});
	} catch (failure) {
		throw new NodeOperationError(
			this.getNode(),
			describeFailure(failure as Bitrix24Failure, { scope: 'im' }),
		);
	}
	const page = isObject(answer.result) ? answer.result : {};
	const items = (Array.isArray(page.items) ? page.items : []) as RecentItem[];
	const needle = (filter ?? '').trim().toLowerCase();
	const results = items
		.filter((item) => item.chat?.entity_type === 'LINES' && Number(item.chat_id) > 0)
		.map((item) => {
			const chatId = String(item.chat_id);
			return {
				name: labelOf(item, chatId),
				value: chatId,
				// Opens the dialog in Bitrix24's messenger.
				url: `${answer.origin}/online/?IM_DIALOG=chat${chatId}`,
			};
		})
		.filter((result) => needle === '' || result.name.toLowerCase().includes(needle));
	const hasMore = page.hasMore === true || page.hasMorePages === true;
	if (results.length === 0 && offset === 0 && needle === '' && !hasMore)
		throw new NodeOperationError(this.getNode(), 'No open channel dialogs to list', {
			description: NO_DIALOGS_HINT,
		});
	return { results, paginationToken: hasMore ? String(offset + PAGE_SIZE) : undefined };
}
