/** The portal's request budget as Bitrix24 applies it: a leaky bucket. */
export interface BudgetSettings {
	/** Requests the portal accepts at once. */
	burstLimit: number;
	/** Requests per second the bucket drains. */
	requestsPerSecond: number;
}

/**
 * A mirror of the portal's leaky bucket, kept on this side so requests leave no faster than the portal
 * accepts them. Each request reserves its slot when it asks, so concurrent callers queue up in order
 * without locks: the answer is how long to wait before sending.
 */
export class PortalBudget {
	private level = 0;

	private updatedAt: number;

	/** When the portal last said its methods' time budget resets (ms), from `time.operating_reset_at`. */
	operatingResetAt?: number;

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

	/** Reserves a slot for one request; returns the milliseconds to wait before sending it. */
	reserve(): number {
		this.drain();
		const { burstLimit, requestsPerSecond } = this.settings;
		// Keep one slot of headroom: the portal's clock and ours never agree to the millisecond.
		const capacity = Math.max(1, burstLimit - 1);
		const excess = this.level + 1 - capacity;
		this.level += 1;
		return excess > 0 ? Math.ceil((excess / requestsPerSecond) * 1000) : 0;
	}

	/** The portal said its bucket is full (503 QUERY_LIMIT_EXCEEDED): believe it, so every caller waits for the drain. */
	markFull(): void {
		this.drain();
		this.level = Math.max(this.level, this.settings.burstLimit);
	}

	/** Remembers the reset time a success envelope's `time` block reports. */
	noteOperatingReset(time: unknown): void {
		const resetAt = (time as { operating_reset_at?: unknown } | undefined)?.operating_reset_at;
		if (typeof resetAt === 'number' && resetAt > 0) this.operatingResetAt = resetAt * 1000;
	}

	/** Requests currently counted in the bucket (reservations included); for tests and diagnostics. */
	get pending(): number {
		this.drain();
		return this.level;
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

export function portalBudget(key: string, settings: BudgetSettings): PortalBudget {
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
export function budgetSettings(credentials: { requestsPerSecond?: unknown; burstLimit?: unknown }): BudgetSettings {
	const positive = (value: unknown, fallback: number) =>
		typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
	return {
		burstLimit: Math.floor(positive(credentials.burstLimit, 50)),
		requestsPerSecond: positive(credentials.requestsPerSecond, 2),
	};
}
