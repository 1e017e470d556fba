import { sleep } from 'n8n-workflow';

import { sleepUnless } from './sleepUnless';

/** The portal's request budget as Bitrix24 applies it: a leaky bucket. */
export interface BudgetSettings {
	/** Requests the portal accepts at once. */
	burstLimit: number;
	/** Requests per second the bucket drains. */
	requestsPerSecond: number;
}

/** Bitrix24's standard plan; Enterprise plans allow 250 at once and 5 per second. */
export const DEFAULT_BUDGET: BudgetSettings = { burstLimit: 50, requestsPerSecond: 2 };

interface Waiter {
	/** true: the request may leave now; false: it is no longer wanted (the run was stopped). */
	grant: (granted: boolean) => void;
}

/** A run's waiting requests, and how to stop listening to its stop signal once none wait. */
interface RunQueue {
	waiters: Waiter[];
	unsubscribe: () => void;
}

/**
 * How a budget shares the portal with budgets it cannot see (the other n8n processes of queue mode, other
 * apps on the same portal). It learns only from the portal's refusals: a refusal means the portal is full, and
 * what this process got through since the previous refusal is its share of a full portal. So a refusal lowers the
 * rate to a little under that share; within a second the rate is back at the share, and past it the rate probes
 * upward, slowly at first and doubling every half second (whoever filled the portal may have left), until the
 * next refusal or the credential's rate.
 */
export const SHARING = {
	/** The shortest time a process's share of the full portal is measured over (seconds)... */
	measureSeconds: 1,
	/** ...and is taken as no less than this share of the rate it had (one refusal never more than halves it). */
	deepestCut: 0.5,
	/** A refusal lowers the rate to this share of the process's share of the portal... */
	decrease: 0.9,
	/** ...and the rate is back at that share this many seconds later. */
	recoverySeconds: 1,
	/** Past the share, the rate grows by this share of the credential's rate... */
	probeShare: 0.003,
	/** ...doubling every this many seconds without a refusal. */
	probeDoublingSeconds: 0.5,
	/** The rate never falls below this share of the credential's. */
	floorShare: 0.05,
	/** A refusal within this many slots (at the rate then) of the last cut is the same congestion: no second cut. */
	holdoffSlots: 2,
	/**
	 * Requests a fresh budget sends at once before its first answers (each answered request allows one more), and
	 * all it sends at once while its rate is lowered (plus those its round trip holds); a refusal starts the count
	 * again from here.
	 */
	initialAllowance: 1,
	/**
	 * A burst leaves at most this many times the credential's rate... (processes that start together, or one whose
	 * rate is back while the portal is still full of the others' requests, see the portal fill a few requests
	 * past its limit, not a whole burst past it)
	 */
	burstSpeedup: 5,
	/** ...or, when faster, a whole burst in this many milliseconds (a burst is for runs that fit in it). */
	burstSpreadMs: 1000,
} as const;

/**
 * A mirror of the portal's leaky bucket, kept on this side so requests leave no faster than the portal
 * accepts them. Requests wait in one queue per run (a node run of one execution) and the queues take
 * turns, so a one-item execution is not stuck behind a 10,000-item one on the same credential. A slot
 * is counted only when granted, and drains only once its answer came: a stopped run's waiting requests cost the
 * others nothing, and requests held up on their way never meet a fresh burst at the portal.
 * When the portal refuses a request anyway, another process shares it: see SHARING.
 */
export class PortalBudget {
	/**
	 * Requests the portal has counted, as far as this process knows, each from when its answer came (it reached the
	 * portal before that, maybe much later than it was granted: n8n's event loop may be busy in between).
	 */
	private level = 0;

	/** When each request granted and not answered yet was granted: each takes its slot until its answer comes. */
	private readonly inFlight: number[] = [];

	/** How long the portal takes to answer (ms), smoothed: the slots requests on their way take at the rate. */
	private roundTripMs = 0;

	private updatedAt: number;

	/** Requests per second this process allows itself: the credential's, lowered by refusals. */
	private rate: number;

	/** How many requests may be in the bucket at once: grows with answers, back to the start on a refusal. */
	private allowance: number = SHARING.initialAllowance;

	private lastRefusalAt = Number.NEGATIVE_INFINITY;

	/** When the portal took this process's first request. */
	private firstAcceptedAt = Number.POSITIVE_INFINITY;

	/** Requests the portal took since the last refusal (or the first request). */
	private acceptedSinceRefusal = 0;

	private lastCutAt = Number.NEGATIVE_INFINITY;

	/** The process's share of the full portal at the last cut (requests per second), where the rate recovers to. */
	private share: number;

	private lastGrantAt = Number.NEGATIVE_INFINITY;

	/** Waiting requests per run, in the order the runs take turns. */
	private readonly queues = new Map<object, RunQueue>();

	private dispatching = false;

	/** Wakes the dispatcher when an answer comes while it waits. */
	private readonly wakers = new Set<() => void>();

	/** When the portal last said each method's time budget resets (ms), from `time.operating_reset_at`. */
	private readonly operatingResets = new Map<string, number>();

	constructor(
		private settings: BudgetSettings,
		private readonly now: () => number = Date.now,
	) {
		this.updatedAt = now();
		this.rate = settings.requestsPerSecond;
		this.share = this.rate;
	}

	/** Adopts new settings (the credential was edited) without forgetting what is in the bucket. */
	resize(settings: BudgetSettings): void {
		this.drain();
		this.settings = settings;
		this.rate = Math.min(this.rate, settings.requestsPerSecond);
		this.share = Math.min(this.share, settings.requestsPerSecond);
	}

	/** The rate this process currently allows itself (requests per second); for tests and diagnostics. */
	get currentRate(): number {
		this.drain();
		return this.rate;
	}

	/**
	 * The portal answered a request this budget granted. Anything but a refusal means the portal counted it:
	 * one more request may go at once. A refusal (503 QUERY_LIMIT_EXCEEDED) means the portal's bucket is full,
	 * so someone else shares it: believe it, send fewer at once, and lower the rate once per congestion.
	 */
	answered(refused: boolean): void {
		this.drain();
		const now = this.now();
		const grantedAt = this.inFlight.shift();
		if (grantedAt !== undefined) {
			const roundTrip = now - grantedAt;
			this.roundTripMs =
				this.roundTripMs === 0 ? roundTrip : 0.8 * this.roundTripMs + 0.2 * roundTrip;
		}
		if (!refused) {
			this.level += 1;
			this.acceptedSinceRefusal += 1;
			if (!Number.isFinite(this.firstAcceptedAt)) this.firstAcceptedAt = now;
			// Every request the portal took is room it had, however slowly this process sent (a stall of n8n's
			// event loop lets the portal drain meanwhile). While the rate is lowered the portal is shared: the
			// allowance grows again once the rate is back.
			if (!this.shared) this.allowance = Math.min(this.capacity, this.allowance + 1);
			for (const wake of this.wakers) wake();
			return;
		}
		const accepted = this.acceptedSinceRefusal;
		const since = this.lastRefusalAt;
		this.acceptedSinceRefusal = 0;
		this.lastRefusalAt = now;
		this.allowance = SHARING.initialAllowance;
		// Full, as the portal said: the next request waits one slot at the lowered rate, not for a drain.
		this.level = this.atOnce;
		if (now - this.lastCutAt < (SHARING.holdoffSlots / this.rate) * 1000) return;
		this.lastCutAt = now;
		this.share = this.shareOfFullPortal(now, since, accepted);
		this.rate = this.rateAfterCut(0);
	}

	/**
	 * What this process gets of the portal, which was full at the previous refusal (or this process's first request)
	 * and is full now: what got through in between, per second, over at least SHARING.measureSeconds. A shorter
	 * time since the previous refusal is the same congestion, a little worse: a little less than the rate. A first
	 * refusal that soon says only that the portal is full: start from the floor and probe upward (TCP's slow start).
	 */
	private shareOfFullPortal(now: number, previousRefusalAt: number, accepted: number): number {
		const from = Math.max(previousRefusalAt, this.firstAcceptedAt);
		const seconds = (now - from) / 1000;
		if (seconds >= SHARING.measureSeconds) {
			const measured = accepted / seconds;
			return Math.max(this.floor, this.rate * SHARING.deepestCut, Math.min(this.rate, measured));
		}
		if (Number.isFinite(previousRefusalAt))
			return Math.max(this.floor, this.rate * SHARING.decrease);
		return this.floor;
	}

	/**
	 * The rate `seconds` after the last cut: from a little under the share back up to it within recoverySeconds
	 * (fast at first, then flat), then past it ever faster; within the floor and the credential's rate.
	 */
	private rateAfterCut(seconds: number): number {
		const ceiling = this.settings.requestsPerSecond;
		const { decrease, recoverySeconds, probeShare, probeDoublingSeconds } = SHARING;
		const rate =
			seconds < recoverySeconds
				? this.share * (1 - (1 - decrease) * (1 - seconds / recoverySeconds) ** 3)
				: this.share +
					ceiling * probeShare * (2 ** ((seconds - recoverySeconds) / probeDoublingSeconds) - 1);
		return Math.min(ceiling, Math.max(this.floor, rate));
	}

	private get floor(): number {
		return this.settings.requestsPerSecond * SHARING.floorShare;
	}

	/** One slot of the credential's rate, in milliseconds. */
	get slotMs(): number {
		return 1000 / this.settings.requestsPerSecond;
	}

	/** The rate is below the credential's: the portal was shared lately. */
	private get shared(): boolean {
		return this.rate < this.settings.requestsPerSecond;
	}

	/** The shortest time between two grants: how fast a burst leaves (see SHARING.burstSpeedup). */
	private get burstGapMs(): number {
		return Math.min(
			this.slotMs / SHARING.burstSpeedup,
			SHARING.burstSpreadMs / this.settings.burstLimit,
		);
	}

	/**
	 * How many requests may be in the bucket at once. While the rate is below the credential's (the portal was
	 * shared lately) no burst: after a pause (n8n preparing another execution's items) this process would
	 * otherwise send a burst into a portal the others keep full.
	 */
	private get atOnce(): number {
		// Requests on their way keep their slots until answered: at the rate, that many more fit at once.
		const onTheWay = Math.floor((this.roundTripMs / 1000) * this.rate);
		return Math.min(
			this.capacity,
			this.shared ? SHARING.initialAllowance + onTheWay : this.allowance,
		);
	}

	/** Keeps one slot of headroom: the portal's clock and ours never agree to the millisecond. */
	private get capacity(): number {
		return Math.max(1, this.settings.burstLimit - 1);
	}

	/**
	 * Waits for a slot for one request of `run`. Resolves true when the request may leave, false when
	 * `signal` aborts first (the request must not be sent).
	 */
	async acquire(run: object, signal?: AbortSignal): Promise<boolean> {
		if (signal?.aborted) return false;
		return await new Promise<boolean>((grant) => {
			let queue = this.queues.get(run);
			if (!queue) {
				// One listener per waiting run, not per request: a run may have thousands waiting.
				const withdraw = () => this.withdraw(run);
				signal?.addEventListener('abort', withdraw, { once: true });
				queue = { waiters: [], unsubscribe: () => signal?.removeEventListener('abort', withdraw) };
				this.queues.set(run, queue);
			}
			queue.waiters.push({ grant });
			void this.dispatch();
		});
	}

	/** A stopped run's waiting requests leave the line, refused. */
	private withdraw(run: object): void {
		const queue = this.queues.get(run);
		this.queues.delete(run);
		for (const waiter of queue?.waiters ?? []) waiter.grant(false);
	}

	/** Remembers the reset time a success's `time` block reports for `method` (each method has its own budget). */
	noteOperatingReset(method: string, time: unknown): void {
		const resetAt = (time as { operating_reset_at?: unknown } | undefined)?.operating_reset_at;
		if (typeof resetAt === 'number' && resetAt > 0)
			this.operatingResets.set(method, resetAt * 1000);
	}

	/** When `method`'s time budget resets (ms), if the portal said so. */
	operatingResetAt(method: string): number | undefined {
		return this.operatingResets.get(method);
	}

	/** Requests currently counted in the bucket, answered or on their way; for tests and diagnostics. */
	get pending(): number {
		this.drain();
		return this.level + this.inFlight.length;
	}

	/** Grants slots while the bucket has room, one run's turn at a time; sleeps until the next slot drains. */
	private async dispatch(): Promise<void> {
		if (this.dispatching) return;
		this.dispatching = true;
		try {
			while (this.queues.size > 0) {
				this.drain();
				const excess = this.level + this.inFlight.length + 1 - this.atOnce;
				if (excess > 0) {
					// Until the bucket drains, or sooner when an answer raises the allowance; a slot of the credential's
					// rate at most, as the rate may be growing meanwhile (from the floor a drain would take seconds).
					const wake = this.wakeOnAnswer();
					const drainMs = Math.ceil((excess / this.rate) * 1000);
					await sleepUnless(Math.min(drainMs, Math.ceil(this.slotMs)), wake.promise);
					wake.cancel();
					continue;
				}
				const early = this.lastGrantAt + this.burstGapMs - this.now();
				if (early >= 1) {
					await sleep(Math.ceil(early));
					continue;
				}
				this.lastGrantAt = this.now();
				this.inFlight.push(this.lastGrantAt);
				this.grantNextTurn();
			}
		} finally {
			this.dispatching = false;
		}
	}

	private grantNextTurn(): void {
		const [run, queue] = this.queues.entries().next().value as [object, RunQueue];
		const waiter = queue.waiters.shift() as Waiter;
		// The run goes to the back of the line; an emptied queue leaves it.
		this.queues.delete(run);
		if (queue.waiters.length > 0) this.queues.set(run, queue);
		else queue.unsubscribe();
		waiter.grant(true);
	}

	/** Lets an answer end the dispatcher's wait early (it may have raised the allowance). */
	private wakeOnAnswer(): { promise: Promise<void>; cancel: () => void } {
		let wake: () => void = () => undefined;
		const promise = new Promise<void>((resolve) => (wake = resolve));
		this.wakers.add(wake);
		return { promise, cancel: () => this.wakers.delete(wake) };
	}

	/** Drains the bucket at this process's rate, and raises that rate for the time since the last cut. */
	private drain(): void {
		const now = this.now();
		this.level = Math.max(0, this.level - ((now - this.updatedAt) / 1000) * this.rate);
		if (this.shared) this.rate = this.rateAfterCut((now - this.lastCutAt) / 1000);
		this.updatedAt = now;
	}
}

/** One budget per portal and credential, shared by every item and every execution in this n8n process. */
const budgets = new Map<string, PortalBudget>();

export function sharedBudget(key: string, settings: BudgetSettings): PortalBudget {
	let budget = budgets.get(key);
	if (budget) {
		budget.resize(settings);
	} else {
		budget = new PortalBudget(settings);
		budgets.set(key, budget);
	}
	return budget;
}

/** Reads the budget a credential stores, falling back to Bitrix24's standard plan. */
export function budgetSettings(credentials: {
	requestsPerSecond?: unknown;
	burstLimit?: unknown;
}): BudgetSettings {
	const positive = (value: unknown, fallback: number) =>
		typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
	return {
		burstLimit: Math.floor(positive(credentials.burstLimit, DEFAULT_BUDGET.burstLimit)),
		requestsPerSecond: positive(credentials.requestsPerSecond, DEFAULT_BUDGET.requestsPerSecond),
	};
}
