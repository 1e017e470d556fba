/**
 * Bitrix24's per-portal request limit: a leaky bucket that holds `burstLimit` requests and
 * drains `requestsPerSecond`. A request that would overflow it is rejected and not processed.
 */

export interface BudgetSettings {
	burstLimit: number;
	requestsPerSecond: number;
}

export interface BudgetSnapshot extends BudgetSettings {
	/** Requests currently in the bucket (fractional while draining). */
	level: number;
}

export class LeakyBucket {
	private settings: BudgetSettings;
	private level = 0;
	private lastDrainAt: number;

	constructor(
		settings: BudgetSettings,
		private readonly now: () => number,
	) {
		this.settings = { ...settings };
		this.lastDrainAt = now();
	}

	/** Admit one request if it fits; false means "answer 503 QUERY_LIMIT_EXCEEDED". */
	tryTake(): boolean {
		this.drain();
		if (this.level + 1 > this.settings.burstLimit) return false;
		this.level += 1;
		return true;
	}

	/** New limits; the bucket starts empty. */
	configure(settings: Partial<BudgetSettings>): void {
		this.settings = { ...this.settings, ...settings };
		this.level = 0;
		this.lastDrainAt = this.now();
	}

	snapshot(): BudgetSnapshot {
		this.drain();
		return { ...this.settings, level: this.level };
	}

	private drain(): void {
		const at = this.now();
		// A clock that goes backwards (fake clocks in tests) must not refill the bucket.
		const elapsedSeconds = Math.max(0, at - this.lastDrainAt) / 1000;
		this.level = Math.max(0, this.level - elapsedSeconds * this.settings.requestsPerSecond);
		this.lastDrainAt = at;
	}
}
