/**
 * More open-channel chats than the seeded ones, for benchmarks and demos: each a chat in progress on an open
 * channel with its own customer (a connector user), no CRM binding, nobody holding it yet (the line's welcome bot
 * joins at the customer's first message). IDs clear of the seeded chats and of the campaign chats.
 */
import { FIRST_CUSTOMER_ID } from './botWorld';
import type { World } from './world';

/** Chats added here get IDs from here on. */
export const FIRST_LINE_DIALOG_CHAT = 300_000;
/** Their customers' IDs, clear of the seeded customers. */
const FIRST_ADDED_CUSTOMER = FIRST_CUSTOMER_ID + 10_000;

/** Adds `count` open-channel chats on `lineId`, customers named "<name> 1", "<name> 2"...; returns their IDs. */
export function addLineDialogs(
	world: World,
	lineId: number,
	count: number,
	name = 'Customer',
): number[] {
	const { imbot } = world;
	const taken = world.chats.filter((chat) => chat.id >= FIRST_LINE_DIALOG_CHAT).length;
	return Array.from({ length: count }, (_, index) => {
		const number = taken + index;
		const id = FIRST_LINE_DIALOG_CHAT + number;
		const customerId = FIRST_ADDED_CUSTOMER + number;
		world.chats.push({
			id,
			entityType: null,
			entityId: 0,
			connectorId: 'livechat',
			connectorTitle: 'Live chat',
			status: 'inProgress',
			members: [customerId],
			lastActivityAt: 0,
		});
		const sessionId = imbot.nextSessionId++;
		imbot.dialogs.push({
			chatId: id,
			lineId,
			customerId,
			customerName: `${name} ${index + 1}`,
			connectorChatId: id,
			sessionId,
			sessionIds: [sessionId],
			messages: [],
		});
		return id;
	});
}

/** Adds an active open channel like the seeded "Customer support" (same queue), no welcome bot; returns its ID. */
export function addOpenLine(world: World, name: string): number {
	const { lines } = world.imbot;
	const id = Math.max(...lines.map((line) => line.id)) + 1;
	const [model] = lines;
	if (!model) throw new Error('The world has no open channel to copy');
	lines.push({
		...model,
		id,
		name,
		active: true,
		welcomeBotEnable: false,
		welcomeBotId: 0,
		queue: [...model.queue],
	});
	return id;
}
