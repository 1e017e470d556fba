import { sleep } from 'n8n-workflow';

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
 * A mirror of the portal's leaky bucket, kept on this side so requests leave no faster than the portal
 * accepts them. Requests wait in one queue per run (a node run of one execution) and the queues take
 * turns, so a one-item execution is not stuck behind a 10,000-item one on the same credential. A slot
 * is counted only when granted: a stopped run's waiting requests cost the others nothing.
 */
export class PortalBudget {
	private level = 0;

	private updatedAt: number;

	/** Waiting requests per run, in the order the runs take turns. */
	private readonly queues = new Map<object, RunQueue>();

	private dispatching = false;

	/** When the portal last said each method's time budget resets (ms), from `time.operating_reset_at`. */
	private readonly operatingResets = new Map<string, number>();

	constructor(
		private settings: BudgetSettings,
		private readonly now: () => number = Date.now,
	) {
		this.updatedAt = now();
	}

	/** Adopts new settings (the credential was edited) without forgetting what is in the bucket. */
	resize(settings: BudgetSettings): void {
		this.settings = settings;
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

	/** The portal said its bucket is full (503 QUERY_LIMIT_EXCEEDED): believe it, so every caller waits for the drain. */
	markFull(): void {
		this.drain();
		this.level = Math.max(this.level, this.settings.burstLimit);
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
				// Keep one slot of headroom: the portal's clock and ours never agree to the millisecond.
				const capacity = Math.max(1, this.settings.burstLimit - 1);
				const excess = this.level + 1 - capacity;
				if (excess > 0) {
					await sleep(Math.ceil((excess / this.settings.requestsPerSecond) * 1000));
					continue;
				}
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

	private drain(): void {
		const now = this.now();
		const drained = ((now - this.updatedAt) / 1000) * this.settings.requestsPerSecond;
		this.level = Math.max(0, this.level - drained);
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
