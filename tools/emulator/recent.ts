/**
 * im.recent.list (api-reference/chats/im-recent-list.md) over the open channel dialogs of the bot world: the caller's
 * recent chats, newest first, OFFSET/LIMIT paged with `hasMore`. Which dialogs a user sees is the emulator's choice,
 * kept here: those the user is a member of, and every dialog of a line whose queue the user is in (operators see their
 * lines' dialogs). Private dialogs and group chats are not modelled, so SKIP_DIALOG / SKIP_CHAT change nothing.
 */
import type { CallContext, MethodOutcome } from './context';
import { bitrixDate } from './envelope';
import { botSessionsOf, type BotDialog } from './botSessions';
import { phpInt } from './params';
import type { ParamRecord } from './params';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
/** imopenlines Session statuses: a dialog in progress, and STATUS_CLOSE. */
const SESSION_STATUS = { open: 20, closed: 60 } as const;

function recentItem(dialog: BotDialog, lineName: string): Record<string, unknown> {
	const last = dialog.messages.at(-1);
	const title = `${dialog.customer.name} - ${lineName}`;
	const entityId = `${dialog.connectorId}|${dialog.lineId}|${dialog.chatId - 2}|${dialog.customer.id}`;
	const date = bitrixDate(last?.at ?? 0);
	return {
		id: `chat${dialog.chatId}`,
		chat_id: dialog.chatId,
		type: 'chat',
		avatar: { url: '', color: '#58cc47' },
		title,
		message: last
			? {
					id: last.id,
					text: last.text,
					file: false,
					author_id: last.authorId,
					attach: last.attach !== undefined,
					sticker: null,
					date,
					status: 'received',
					uuid: null,
				}
			: null,
		counter: 0,
		pinned: false,
		unread: false,
		has_reminder: false,
		date_update: date,
		date_last_activity: date,
		chat: {
			id: dialog.chatId,
			name: title,
			type: 'lines',
			entity_type: 'LINES',
			entity_id: entityId,
			entity_data_1: `${dialog.crm ? 'Y' : 'N'}|${dialog.crm?.type ?? 'NONE'}|${dialog.crm?.id ?? 0}|N|N|${dialog.sessionId}|1736928000|0|0|0`,
			message_type: 'L',
			user_counter: dialog.members.length,
			role: 'MEMBER',
			entity_link: { type: 'LINES', url: '', id: entityId },
		},
		lines: {
			id: dialog.sessionId,
			status: dialog.sessionOpen ? SESSION_STATUS.open : SESSION_STATUS.closed,
			date_create: date,
		},
		options: [],
	};
}

export function recentList(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const state = botSessionsOf(ctx.world);
	const limit = Math.min(MAX_LIMIT, phpInt(params.LIMIT ?? null) || DEFAULT_LIMIT);
	const offset = Math.max(0, phpInt(params.OFFSET ?? null));
	const lineOf = (dialog: BotDialog) => state.lines.find((line) => line.id === dialog.lineId);
	const visible =
		params.SKIP_OPENLINES === 'Y'
			? []
			: state.dialogs
					.filter(
						(dialog) =>
							dialog.members.includes(ctx.callerId) ||
							lineOf(dialog)?.queue.includes(ctx.callerId) === true,
					)
					.sort((a, b) => (b.messages.at(-1)?.at ?? 0) - (a.messages.at(-1)?.at ?? 0));
	const hasMore = offset + limit < visible.length;
	return {
		result: {
			items: visible
				.slice(offset, offset + limit)
				.map((dialog) => recentItem(dialog, lineOf(dialog)?.name ?? `line ${dialog.lineId}`)),
			hasMorePages: hasMore,
			hasMore,
			copilot: { chats: null, messages: null, roles: {}, recommendedRoles: [] },
			messagesAutoDeleteConfigs: [],
		},
		total: -1,
	};
}
