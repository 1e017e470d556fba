import { PortalBudget } from '../../../nodes/shared/pacing';
import { LeakyBucket } from '../../../tools/emulator/rateLimit';

/**
 * Queue mode in virtual time: each n8n worker has its own PortalBudget and nothing but the portal's refusals
 * tells it about the others. Outcomes are counted on the portal's side (the emulator's leaky bucket), so they
 * hold however busy the machine is.
 */

interface Send {
	worker: number;
	at: number;
	accepted: boolean;
}

/** Runs `runs` (one per entry: which worker, when it starts, how many requests) and logs every send. */
async function share(
	limit: { burstLimit: number; requestsPerSecond: number },
	runs: Array<{ worker: number; startMs: number; requests: number }>,
	workers: number,
	{ credential = limit, linkMs = 10 }: { credential?: typeof limit; linkMs?: number } = {},
) {
	const portal = new LeakyBucket(limit, Date.now);
	const budgets = Array.from({ length: workers }, () => new PortalBudget(credential));
	const sends: Send[] = [];
	const ends: number[] = [];
	const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
	const all = Promise.all(
		runs.map(async ({ worker, startMs, requests }, index) => {
			await wait(startMs);
			const run = {};
			await Promise.all(
				Array.from({ length: requests }, async () => {
					// As the node's transport does: a refused request waits 1, 2, 4, then 8 slots and asks again.
					for (let attempt = 1; ; attempt++) {
						await budgets[worker].acquire(run);
						await wait(linkMs / 2);
						const accepted = portal.tryTake();
						sends.push({ worker, at: Date.now(), accepted });
						await wait(linkMs / 2);
						budgets[worker].answered(!accepted);
						if (accepted) return;
						await wait((1000 / limit.requestsPerSecond) * 2 ** Math.min(attempt - 1, 3));
					}
				}),
			);
			ends[index] = Date.now();
		}),
	);
	let done = false;
	void all.then(() => (done = true));
	while (!done) await jest.advanceTimersByTimeAsync(50);
	return { sends, ends };
}

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

describe('PortalBudget shared by n8n workers (virtual time)', () => {
	it("takes the portal's whole rate within seconds when the other worker's run ends, refusing few", async () => {
		// Worker 0 runs one execution of 50 messages, worker 1 two, started as n8n hands them out; the portal
		// takes 10 at once and 10 per second (the credential says the same).
		const limit = { burstLimit: 10, requestsPerSecond: 10 };
		const { sends, ends } = await share(
			limit,
			[
				{ worker: 0, startMs: 0, requests: 50 },
				{ worker: 1, startMs: 700, requests: 50 },
				{ worker: 1, startMs: 1400, requests: 50 },
			],
			2,
		);

		const accepted = sends.filter((send) => send.accepted);
		expect(accepted).toHaveLength(150);
		expect(sends.length - accepted.length).toBeLessThanOrEqual(0.05 * sends.length);
		// Alone from the end of worker 0's run: three seconds later worker 1 sends at the portal's rate.
		const alone = ends[0];
		const last = Math.max(...accepted.map((send) => send.at));
		expect(last - alone).toBeGreaterThan(5000);
		const afterThreeSeconds = accepted.filter((send) => send.at >= alone + 3000);
		expect(afterThreeSeconds.every((send) => send.worker === 1)).toBe(true);
		expect(afterThreeSeconds.length / ((last - alone - 3000) / 1000)).toBeGreaterThanOrEqual(
			0.9 * limit.requestsPerSecond,
		);
		// The whole run ((150 - 10) / 10 per second = 14 s at best): the previous pacing reached half of that, as the
		// real n8n run that reported it; worker 1 joining a portal worker 0 keeps full waits at first.
		expect(physicalLimitMs(limit, 150) / (last - accepted[0].at)).toBeGreaterThanOrEqual(0.75);
	});

	it('three workers joining a full portal one after another at 2 per second: every request once, the limit kept to 0.9', async () => {
		const limit = { burstLimit: 10, requestsPerSecond: 2 };
		const { sends } = await share(
			limit,
			[0, 1, 2].map((worker) => ({ worker, startMs: worker * 2000, requests: 20 })),
			3,
		);
		const accepted = sends.filter((send) => send.accepted);
		const last = Math.max(...accepted.map((send) => send.at));
		expect(accepted).toHaveLength(60);
		// A worker joining a full portal learns it only from refusals: a few each, none of them lost.
		expect(sends.length - accepted.length).toBeLessThanOrEqual(3 * 4);
		expect(physicalLimitMs(limit, 60) / (last - accepted[0].at)).toBeGreaterThanOrEqual(0.9);
	});
});

describe('PortalBudget over a slow link (virtual time)', () => {
	it('keeps sending at its share while each answer takes longer than a slot', async () => {
		// 300 ms round trips at 10 per second: three requests are always on their way.
		const limit = { burstLimit: 10, requestsPerSecond: 10 };
		const { sends } = await share(
			limit,
			[
				{ worker: 0, startMs: 0, requests: 100 },
				{ worker: 1, startMs: 700, requests: 100 },
			],
			2,
			{ linkMs: 300 },
		);
		const accepted = sends.filter((send) => send.accepted);
		const last = Math.max(...accepted.map((send) => send.at));
		expect(accepted).toHaveLength(200);
		expect(sends.length - accepted.length).toBeLessThanOrEqual(0.1 * sends.length);
		// Were each request to keep the portal waiting for its answer, the pair would reach about 0.8.
		expect(physicalLimitMs(limit, 200) / (last - accepted[0].at)).toBeGreaterThanOrEqual(0.85);
	});
});

describe('PortalBudget with a credential that says more than the portal allows (virtual time)', () => {
	it("finds the portal's real rate from its refusals: every request once, close to the limit", async () => {
		const limit = { burstLimit: 10, requestsPerSecond: 10 };
		const { sends } = await share(limit, [{ worker: 0, startMs: 0, requests: 300 }], 1, {
			credential: { burstLimit: 20, requestsPerSecond: 20 },
		});
		const accepted = sends.filter((send) => send.accepted);
		expect(accepted).toHaveLength(300);
		expect(sends.length - accepted.length).toBeLessThanOrEqual(0.1 * sends.length);
		const last = Math.max(...accepted.map((send) => send.at));
		expect(physicalLimitMs(limit, 300) / (last - accepted[0].at)).toBeGreaterThanOrEqual(0.85);
	});
});

/** The shortest time the portal's limit allows for `requests`: the burst at once, the rest at its rate. */
const physicalLimitMs = (
	limit: { burstLimit: number; requestsPerSecond: number },
	requests: number,
) => ((requests - limit.burstLimit) / limit.requestsPerSecond) * 1000;
