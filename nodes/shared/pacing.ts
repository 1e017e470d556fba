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
 * apps on the same portal). It learns only from the portal's refusals, so it probes: it starts a burst with a
 * few requests and lets more go as answers come back, lowers its own rate on a refusal and raises it again,
 * slowly at first, while no refusal comes. Time is counted in slots (one request at the credential's rate),
 * so the behaviour is the same whatever the rate.
 */
export const SHARING = {
	/** A refusal cuts the process's rate to this share of what it was. */
	decrease: 0.7,
	/** The rate never falls below this share of the credential's. */
	floorShare: 0.05,
	/** A refusal within this many slots (at the rate then) of the last cut is the same congestion: no second cut. */
	holdoffSlots: 2,
	/** The rate grows by this share of the credential's per slot without a refusal... */
	increasePerSlot: 0.0002,
	/** ...and that growth doubles every this many slots without one, so a process left alone soon regains it all. */
	doublingSlots: 40,
	/**
	 * Requests a fresh budget sends at once before its first answers (each answered request allows one more), and
	 * all it sends at once while its rate is lowered; a refusal starts the count again from here.
	 */
	initialAllowance: 2,
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
 * is counted only when granted: a stopped run's waiting requests cost the others nothing.
 * When the portal refuses a request anyway, another process shares it: see SHARING.
 */
export class PortalBudget {
	private level = 0;

	private updatedAt: number;

	/** Requests per second this process allows itself: the credential's, lowered by refusals. */
	private rate: number;

	/** How many requests may be in the bucket at once: grows with answers, back to the start on a refusal. */
	private allowance: number = SHARING.initialAllowance;

	private lastRefusalAt: number;

	private lastCutAt = Number.NEGATIVE_INFINITY;

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
		this.lastRefusalAt = this.updatedAt;
		this.rate = settings.requestsPerSecond;
	}

	/** Adopts new settings (the credential was edited) without forgetting what is in the bucket. */
	resize(settings: BudgetSettings): void {
		this.drain();
		this.settings = settings;
		this.rate = Math.min(this.rate, settings.requestsPerSecond);
	}

	/** The rate this process currently allows itself (requests per second); for tests and diagnostics. */
	get currentRate(): number {
		this.drain();
		return this.rate;
	}

	/**
	 * The portal answered a request this budget granted. Anything but a refusal means the portal counted it:
	 * one more request may go at once. A refusal (503 QUERY_LIMIT_EXCEEDED) means the portal's bucket is full,
	 * so someone else shares it: believe it, send fewer at once, and cut the rate once per congestion.
	 */
	answered(refused: boolean): void {
		this.drain();
		if (!refused) {
			// It grows only while it is what holds requests back (the bucket is full up to it): a process that
			// sent slowly (n8n busy, or a short run) has learnt nothing about the portal's room, and would
			// otherwise send a whole burst at once when it speeds up. While the rate is lowered the portal is
			// shared: it grows again once the rate is back.
			if (!this.shared && this.level + 1 >= this.allowance)
				this.allowance = Math.min(this.capacity, this.allowance + 1);
			for (const wake of this.wakers) wake();
			return;
		}
		const now = this.now();
		this.allowance = SHARING.initialAllowance;
		// Full, as the portal said: the next request waits one slot at the lowered rate, not for a drain.
		this.level = this.atOnce;
		this.lastRefusalAt = now;
		if (now - this.lastCutAt >= (SHARING.holdoffSlots / this.rate) * 1000) {
			this.lastCutAt = now;
			this.rate = Math.max(
				this.settings.requestsPerSecond * SHARING.floorShare,
				this.rate * SHARING.decrease,
			);
		}
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
		return Math.min(this.capacity, this.shared ? SHARING.initialAllowance : this.allowance);
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

	/** Requests currently counted in the bucket; for tests and diagnostics. */
	get pending(): number {
		this.drain();
		return this.level;
	}

	/** Grants slots while the bucket has room, one run's turn at a time; sleeps until the next slot drains. */
	private async dispatch(): Promise<void> {
		if (this.dispatching) return;
		this.dispatching = true;
		try {
			while (this.queues.size > 0) {
				this.drain();
				const excess = this.level + 1 - this.atOnce;
				if (excess > 0) {
					// Until the bucket drains, or sooner when an answer raises the allowance.
					const wake = this.wakeOnAnswer();
					await sleepUnless(Math.ceil((excess / this.rate) * 1000), wake.promise);
					wake.cancel();
					continue;
				}
				const early = this.lastGrantAt + this.burstGapMs - this.now();
				if (early >= 1) {
					await sleep(Math.ceil(early));
					continue;
				}
				this.lastGrantAt = this.now();
				this.level += 1;
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

	/** Drains the bucket at this process's rate, and raises that rate for the time without a refusal. */
	private drain(): void {
		const now = this.now();
		const seconds = (now - this.updatedAt) / 1000;
		this.level = Math.max(0, this.level - seconds * this.rate);
		const ceiling = this.settings.requestsPerSecond;
		if (this.rate < ceiling && seconds > 0) {
			// Growth per slot: increasePerSlot x 2^(quiet slots / doublingSlots), integrated over the elapsed slots.
			const quiet = (at: number) => ((at - this.lastRefusalAt) / 1000) * ceiling;
			const grown = (at: number) => 2 ** (quiet(at) / SHARING.doublingSlots);
			const gain =
				((SHARING.increasePerSlot * SHARING.doublingSlots) / Math.LN2) *
				(grown(now) - grown(this.updatedAt));
			this.rate = Math.min(ceiling, this.rate + gain * ceiling);
		}
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
