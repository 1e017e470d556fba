import type { IDataObject, IRun, ITriggerFunctions } from 'n8n-workflow';

import type { BotIdentity } from '../shared/botIdentity';
import { Bitrix24Failure } from '../shared/errors';
import { isObject } from '../shared/json';
import { sleepUnless } from '../shared/sleepUnless';
import { BOT_METHODS, botCall, triggerError } from './bot';
import { eventItem, wanted, type BotEvent, type EventFilters } from './events';
import { firstDelivery, seenBefore, type TriggerState } from './state';
import { eventKey } from './verification';

/**
 * How often reliable mode reads, as shares of the credential's request rate (the budget it shares with every
 * node on the credential): at Bitrix24's standard 2 requests/s, one read every 5 s while idle (10% of the budget)
 * and every 1.5 s in a conversation, so a reply follows a customer's message within about two seconds.
 */
export const RELIABLE_PACE = {
	idleShare: 0.1,
	conversationShare: 1 / 3,
	/** A conversation lasts this long after the bot's last event. */
	conversationMs: 60_000,
	/** Events asked for per read (Event.get's most). */
	limit: 1000,
	/**
	 * A chat's next message waits this long at most for the execution of its previous one, after which that event
	 * counts as held anyway: n8n created its execution long ago, it only runs long.
	 */
	orderWaitMs: 120_000,
	/** A failed read is tried again after 1 s, then 2, 4... up to this. */
	maxBackoffMs: 60_000,
	/** Failed reads in a row after which the trigger reports a failed execution (once per outage). */
	reportAfterFailures: 4,
} as const;

/** What the loop needs that it reads once, at activation (parameters, credential). */
export interface LoopSetup {
	identity: BotIdentity;
	botId: number;
	filters: EventFilters;
	/** The credential's requests per second. */
	rate: number;
	/** The portal's host: part of every execution's deduplication key. */
	portal: string;
	/** Registers the bot again after Bitrix24 lost it (deleted in Bitrix24); returns its new ID. */
	recover: () => Promise<number>;
}

/**
 * One event the loop read: `waiting` to be handed to n8n (its chat's previous one still runs), `running` (handed:
 * n8n is creating or running its execution), or `held` (its execution exists, or there is nothing to run for it).
 * Bitrix24 is told an event was received (the next read's offset passes it) only once it and all before it are held.
 */
interface Tracked {
	eventId: number;
	phase: 'waiting' | 'running' | 'held';
	item?: IDataObject;
	key?: string;
	chat?: string;
	handedAt?: number;
}

const eventsOf = (result: unknown): BotEvent[] => {
	const events = isObject(result) && Array.isArray(result.events) ? result.events : [];
	return events
		.filter(isObject)
		.map((event) => ({
			type: String(event.type),
			data: isObject(event.data) ? event.data : {},
			eventId: Number(event.eventId),
		}))
		.filter((event) => Number.isSafeInteger(event.eventId))
		.sort((a, b) => (a.eventId ?? 0) - (b.eventId ?? 0));
};

/**
 * Reliable mode: the bot stays in fetch mode, where Bitrix24 keeps its events until they are acknowledged, and this
 * loop reads them with imbot.v2.Event.get for as long as the workflow is active. Each wanted event starts one
 * execution (emit), with a deduplication key n8n 2.x stores with the execution (a unique index): an event read
 * again after a crash or a duplicate from Bitrix24 never starts a second one. An event is acknowledged only once
 * n8n reported its execution done; a chat's events start their executions one after another, in order.
 */
export class EventLoop {
	private readonly stopper = new AbortController();

	private readonly stopped: Promise<void>;

	private readonly tracked = new Map<number, Tracked>();

	/** Event.get's next offset as of the last read. */
	private nextOffset: number | undefined;

	private lastEventAt = Number.NEGATIVE_INFINITY;

	private finished: Promise<void> = Promise.resolve();

	constructor(
		private readonly context: ITriggerFunctions,
		private readonly state: TriggerState,
		private setup: LoopSetup,
	) {
		this.nextOffset = typeof state.offset === 'number' ? state.offset : undefined;
		this.stopped = new Promise((resolve) =>
			this.stopper.signal.addEventListener('abort', () => resolve(), { once: true }),
		);
	}

	start(): void {
		this.finished = this.run();
	}

	/** Deactivation: no read, no execution starts after this returns. */
	async stop(): Promise<void> {
		this.stopper.abort();
		await this.finished;
	}

	private get isStopped(): boolean {
		return this.stopper.signal.aborted;
	}

	private async run(): Promise<void> {
		let failures = 0;
		while (!this.isStopped) {
			let events: BotEvent[];
			try {
				events = await this.read();
				failures = 0;
			} catch (error) {
				if (this.isStopped) break;
				failures += 1;
				await this.failed(error, failures);
				continue;
			}
			const fresh = this.take(events);
			this.releaseOverdue();
			this.dispatch();
			// More waits in Bitrix24: read on at once (only when this read brought something new, or it would spin).
			if (fresh > 0 && events.length >= RELIABLE_PACE.limit) continue;
			await sleepUnless(this.interval(), this.stopped);
		}
	}

	/** The first event not yet held: the offset that acknowledges every event before it. */
	private ackOffset(): number | undefined {
		let lowest: number | undefined;
		for (const entry of this.tracked.values())
			if (entry.phase !== 'held' && (lowest === undefined || entry.eventId < lowest))
				lowest = entry.eventId;
		return lowest ?? this.nextOffset;
	}

	private async read(): Promise<BotEvent[]> {
		const offset = this.ackOffset();
		const result = await botCall(
			this.context,
			this.setup.identity,
			BOT_METHODS.events,
			{
				botId: this.setup.botId,
				limit: RELIABLE_PACE.limit,
				...(offset === undefined ? {} : { offset }),
			},
			this.stopper.signal,
		);
		if (offset !== undefined)
			for (const id of this.tracked.keys()) if (id < offset) this.tracked.delete(id);
		const next = isObject(result) ? Number(result.nextOffset) : NaN;
		if (Number.isSafeInteger(next)) this.nextOffset = Math.max(next, offset ?? 0);
		return eventsOf(result);
	}

	/** Tracks the events not seen before; returns how many there were. */
	private take(events: BotEvent[]): number {
		let fresh = 0;
		for (const event of events) {
			const eventId = event.eventId as number;
			if (this.tracked.has(eventId)) continue;
			fresh += 1;
			this.lastEventAt = Date.now();
			const item = eventItem(event);
			const key = item === undefined ? undefined : eventKey(item);
			const wantedNow =
				item !== undefined &&
				key !== undefined &&
				wanted(item, this.setup.filters) &&
				!seenBefore(this.state, key) &&
				![...this.tracked.values()].some((entry) => entry.key === key);
			this.tracked.set(
				eventId,
				wantedNow
					? { eventId, phase: 'waiting', item, key, chat: String(item.chatId) }
					: { eventId, phase: 'held' },
			);
		}
		return fresh;
	}

	/** Hands each chat's oldest waiting event to n8n, unless that chat's previous execution still runs. */
	private dispatch(): void {
		if (this.isStopped) return;
		const busy = new Set<string>();
		const inOrder = [...this.tracked.values()].sort((a, b) => a.eventId - b.eventId);
		for (const entry of inOrder) {
			if (entry.phase === 'held' || entry.chat === undefined) continue;
			if (entry.phase === 'waiting' && !busy.has(entry.chat)) this.hand(entry);
			busy.add(entry.chat);
		}
	}

	private hand(entry: Tracked): void {
		entry.phase = 'running';
		entry.handedAt = Date.now();
		// n8n saves static data as it starts the execution: the offset saved with it does not pass this event.
		this.state.offset = this.ackOffset();
		const done = this.context.helpers.createDeferredPromise<IRun>();
		done.promise.then(
			() => this.held(entry),
			// n8n could not create the execution: hand it again with the next read.
			() => {
				if (entry.phase === 'running') entry.phase = 'waiting';
			},
		);
		const deduplicationKey = `bitrix24-open-channels|${this.setup.portal}|${this.setup.botId}|${entry.key}`;
		this.context.emit([[{ json: entry.item as IDataObject }]], undefined, done, deduplicationKey);
	}

	private held(entry: Tracked): void {
		if (entry.phase === 'held') return;
		entry.phase = 'held';
		if (entry.key !== undefined) firstDelivery(this.state, entry.key);
		this.dispatch();
	}

	private releaseOverdue(): void {
		const overdue = Date.now() - RELIABLE_PACE.orderWaitMs;
		for (const entry of this.tracked.values())
			if (entry.phase === 'running' && (entry.handedAt ?? 0) < overdue) this.held(entry);
	}

	private interval(): number {
		const inConversation = Date.now() - this.lastEventAt < RELIABLE_PACE.conversationMs;
		const share = inConversation ? RELIABLE_PACE.conversationShare : RELIABLE_PACE.idleShare;
		return 1000 / (this.setup.rate * share);
	}

	/**
	 * A read failed: wait (1 s doubling to a minute: the portal is down, refuses, or limits us) and read again. A bot
	 * deleted in Bitrix24 is registered again. A long outage is reported once as a failed execution of the trigger,
	 * so n8n's executions list and error workflow show it; the loop keeps trying.
	 */
	private async failed(error: unknown, failures: number): Promise<void> {
		const reported = triggerError(this.context, error);
		this.context.logger.warn(`Bitrix24 Open Channels Trigger: ${reported.message}`);
		if (error instanceof Bitrix24Failure && error.code === 'BOT_NOT_FOUND') {
			try {
				this.setup = { ...this.setup, botId: await this.setup.recover() };
				this.tracked.clear();
				this.nextOffset = undefined;
				delete this.state.offset;
				return;
			} catch (recoverError) {
				this.context.logger.warn(
					`Bitrix24 Open Channels Trigger: ${triggerError(this.context, recoverError).message}`,
				);
			}
		}
		if (failures === RELIABLE_PACE.reportAfterFailures)
			this.context.saveFailedExecution?.(
				reported as Parameters<ITriggerFunctions['saveFailedExecution']>[0],
			);
		const backoff = Math.min(RELIABLE_PACE.maxBackoffMs, 1000 * 2 ** (failures - 1));
		await sleepUnless(backoff, this.stopped);
	}
}
