/**
 * im.recent.list (api-reference/chats/im-recent-list.md) over the open channel dialogs of the bot world: the caller's
 * recent chats, newest first, OFFSET/LIMIT paged with `hasMore`. Which dialogs a user sees is the emulator's choice,
 * kept here: those the user is a member of, and every dialog of a line whose queue the user is in (operators see their
 * lines' dialogs). Private dialogs and group chats are not modelled, so SKIP_DIALOG / SKIP_CHAT change nothing.
 */
import type { LineDialog } from './botWorld';
import { chatEntityFields, sessionOpen } from './bots';
import type { CallContext, MethodOutcome } from './context';
import { bitrixDate } from './envelope';
import { phpInt } from './params';
import type { ParamRecord } from './params';
import type { OpenLineChat } from './world';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
/** imopenlines Session statuses: a dialog in progress, and STATUS_CLOSE. */
const SESSION_STATUS = { open: 20, closed: 60 } as const;

function recentItem(
	chat: OpenLineChat,
	dialog: LineDialog,
	lineName: string,
): Record<string, unknown> {
	const last = dialog.messages.at(-1);
	const title = `${dialog.customerName} - ${lineName}`;
	const at = last?.at ?? 0;
	const { entityId, entityData1 } = chatEntityFields(chat, dialog, at);
	const date = bitrixDate(at);
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
			entity_data_1: entityData1,
			message_type: 'L',
			user_counter: chat.members.length,
			role: 'MEMBER',
			entity_link: { type: 'LINES', url: '', id: entityId },
		},
		lines: {
			id: dialog.sessionId,
			status: sessionOpen(chat) ? SESSION_STATUS.open : SESSION_STATUS.closed,
			date_create: date,
		},
		options: [],
	};
}

export function recentList(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const { world } = ctx;
	const limit = Math.min(MAX_LIMIT, phpInt(params.LIMIT ?? null) || DEFAULT_LIMIT);
	const offset = Math.max(0, phpInt(params.OFFSET ?? null));
	const lineOf = (dialog: LineDialog) =>
		world.imbot.lines.find((line) => line.id === dialog.lineId);
	const visible =
		params.SKIP_OPENLINES === 'Y'
			? []
			: world.imbot.dialogs
					.flatMap((dialog) => {
						const chat = world.chats.find((c) => c.id === dialog.chatId);
						const seen =
							chat !== undefined &&
							(chat.members.includes(ctx.callerId) ||
								lineOf(dialog)?.queue.includes(ctx.callerId) === true);
						return seen ? [{ chat, dialog }] : [];
					})
					.sort(
						(a, b) => (b.dialog.messages.at(-1)?.at ?? 0) - (a.dialog.messages.at(-1)?.at ?? 0),
					);
	const hasMore = offset + limit < visible.length;
	return {
		result: {
			items: visible
				.slice(offset, offset + limit)
				.map(({ chat, dialog }) =>
					recentItem(chat, dialog, lineOf(dialog)?.name ?? `line ${dialog.lineId}`),
				),
			hasMorePages: hasMore,
			hasMore,
			copilot: { chats: null, messages: null, roles: {}, recommendedRoles: [] },
			messagesAutoDeleteConfigs: [],
		},
		total: -1,
	};
}
