import { sleep } from 'n8n-workflow';

import { budgetSettings, PortalBudget, SHARING } from '../../../nodes/shared/pacing';

/**
 * Asks for `count` slots for `run` and records, per grant, the run and the moment it was granted. Each granted
 * request is answered at once, accepted by the portal, as on a fast link.
 */
function ask(
	budget: PortalBudget,
	run: object,
	count: number,
	grants: Array<{ run: object; at: number }>,
	signal?: AbortSignal,
) {
	return Promise.all(
		Array.from({ length: count }, async () => {
			const granted = await budget.acquire(run, signal);
			if (granted) {
				grants.push({ run, at: Date.now() });
				budget.answered(false);
			}
			return granted;
		}),
	);
}

describe('PortalBudget', () => {
	it('starts a burst with a few requests and lets more go as answers come, up to the burst minus one', async () => {
		// One request per second: within 300 ms only answers could let more than the first two go.
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 1 });
		let granted = 0;
		const unanswered = Array.from({ length: 5 }, async () => {
			if (await budget.acquire({}, AbortSignal.timeout(300))) granted += 1;
		});
		await Promise.all(unanswered);
		expect(granted).toBe(SHARING.initialAllowance);
	});

	it('lets a burst through without waiting for a drain when answers come back, keeping one slot of headroom', async () => {
		// One request per 100 s: had any of the 49 waited for a drain, the test would time out.
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 0.01 });
		const grants: Array<{ run: object; at: number }> = [];

		await ask(budget, {}, 49, grants);

		expect(grants).toHaveLength(49);
		expect(Math.round(budget.pending)).toBe(49);
	});

	it('spreads a burst at a few times the rate, so processes starting together see the portal fill in time', async () => {
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 20 });
		const grants: Array<{ run: object; at: number }> = [];

		await ask(budget, {}, 20, grants);

		// One slot is 50 ms; a burst leaves at most SHARING.burstSpeedup times the rate: 10 ms apart, not at once
		// (each grant is recorded when its promise settles, so single gaps vary by a timer tick; the span does not).
		const span = grants[grants.length - 1].at - grants[0].at;
		expect(span).toBeGreaterThanOrEqual((grants.length - 1) * (50 / SHARING.burstSpeedup) - 5);
	});

	it('after a stall (n8n busy, the portal draining meanwhile) spends the burst its answers built, however slowly it sent', async () => {
		let offset = 0;
		// One request per second: within 300 ms only the allowance lets requests go, no drain.
		const budget = new PortalBudget(
			{ burstLimit: 50, requestsPerSecond: 1 },
			() => Date.now() + offset,
		);
		// Twenty requests answered one at a time, five seconds apart (n8n preparing items, say): never a full bucket.
		for (let request = 0; request < 20; request++) {
			await ask(budget, {}, 1, []);
			offset += 5000;
		}

		let granted = 0;
		await Promise.all(
			Array.from({ length: 12 }, async () => {
				if (await budget.acquire({}, AbortSignal.timeout(300))) granted += 1;
			}),
		);
		// The portal took all twenty and has drained since: not two at once as a fresh budget, but a burst (its
		// first requests spread at SHARING.burstSpeedup times the rate: several within 300 ms).
		expect(granted).toBeGreaterThan(SHARING.initialAllowance + 1);
	});

	it('keeps a slot for each request until its answer comes: requests held up on their way never meet a fresh burst at the portal', async () => {
		let offset = 0;
		const budget = new PortalBudget(
			{ burstLimit: 5, requestsPerSecond: 1 },
			() => Date.now() + offset,
		);
		// Four answered requests build the allowance up to the burst minus one; ten seconds drain them.
		await ask(budget, {}, 4, []);
		offset += 10_000;

		// Four granted, their answers not back yet (n8n's event loop busy, a slow link)...
		const onTheWay = await Promise.all(Array.from({ length: 4 }, () => budget.acquire({})));
		expect(onTheWay).toEqual([true, true, true, true]);
		// ...still count in full five seconds later: they may reach the portal only now.
		offset += 5000;
		expect(await budget.acquire({}, AbortSignal.timeout(300))).toBe(false);
		expect(Math.round(budget.pending)).toBe(4);

		// Answered: each drains from its answer on.
		for (let answer = 0; answer < 4; answer++) budget.answered(false);
		expect(Math.round(budget.pending)).toBe(4);
		offset += 1000;
		expect(budget.pending).toBeCloseTo(3, 1);
	});

	it("looks again every slot of the credential while its rate grows back from the floor, not once the floor's slot is over", async () => {
		let offset = 0;
		// Ten per second; a first refusal takes it to the floor (half a request per second: a 2 s slot).
		const budget = new PortalBudget(
			{ burstLimit: 10, requestsPerSecond: 10 },
			() => Date.now() + offset,
		);
		budget.answered(true);
		const next = budget.acquire({}, AbortSignal.timeout(600));
		// Five seconds later (as the budget's clock says) its rate has grown back and the bucket has drained: the
		// waiting request leaves within a slot or two of the credential's rate, not after the floor's 2 s.
		offset += 5000;
		expect(await next).toBe(true);
	});

	it('starts its count again after a refusal and lets it grow only once the rate is back', async () => {
		let offset = 0;
		// One request per second: within 300 ms only the allowance lets requests go, no drain.
		const budget = new PortalBudget(
			{ burstLimit: 50, requestsPerSecond: 1 },
			() => Date.now() + offset,
		);
		await ask(budget, {}, 10, []);
		budget.answered(true);
		// Answers while the rate is lowered (the portal is shared) do not build up a burst for later.
		for (let answer = 0; answer < 10; answer++) budget.answered(false);
		// Ten minutes without refusals: the rate is the credential's again and the bucket has drained.
		offset += 600_000;
		expect(budget.currentRate).toBe(1);

		let granted = 0;
		await Promise.all(
			Array.from({ length: 6 }, async () => {
				if (await budget.acquire({}, AbortSignal.timeout(300))) granted += 1;
			}),
		);
		expect(granted).toBe(SHARING.initialAllowance);
	});

	it('never lets more than the burst reach the portal at any moment', async () => {
		const { burstLimit, requestsPerSecond } = { burstLimit: 5, requestsPerSecond: 40 };
		const budget = new PortalBudget({ burstLimit, requestsPerSecond });
		const grants: Array<{ run: object; at: number }> = [];

		await Promise.all([ask(budget, {}, 30, grants), ask(budget, {}, 10, grants)]);

		// Replay the portal's leaky bucket over the grant times: it must never overflow.
		let level = 0;
		let last = grants[0].at;
		for (const { at } of grants) {
			level = Math.max(0, level - ((at - last) / 1000) * requestsPerSecond);
			last = at;
			level += 1;
			expect(level).toBeLessThanOrEqual(burstLimit);
		}
		expect(grants).toHaveLength(40);
	});

	it('lets runs take turns: a one-request run is not stuck behind a long one', async () => {
		const budget = new PortalBudget({ burstLimit: 2, requestsPerSecond: 50 });
		const bulk = {};
		const single = {};
		const grants: Array<{ run: object; at: number }> = [];
		const bulkDone = ask(budget, bulk, 40, grants);
		const singleDone = ask(budget, single, 1, grants);

		await Promise.all([bulkDone, singleDone]);

		// The single request got the second slot, not the 41st.
		expect(grants.findIndex((grant) => grant.run === single)).toBeLessThanOrEqual(2);
	});

	it("withdraws a stopped run's waiting requests, which then cost the others nothing", async () => {
		const budget = new PortalBudget({ burstLimit: 2, requestsPerSecond: 10 });
		const stop = new AbortController();
		const grants: Array<{ run: object; at: number }> = [];
		const stopped = ask(budget, {}, 100, grants, stop.signal);
		await sleep(120);
		stop.abort();

		const outcomes = await stopped;
		const grantedBeforeStop = outcomes.filter(Boolean).length;
		expect(grantedBeforeStop).toBeLessThan(10);
		expect(outcomes.filter((granted) => !granted)).toHaveLength(100 - grantedBeforeStop);

		// Another run is served at the rate, not after the withdrawn requests (10 s at 10 per second).
		expect(await budget.acquire({}, AbortSignal.timeout(5000))).toBe(true);
	});

	it('refuses at once when the run is already stopped', async () => {
		const budget = new PortalBudget({ burstLimit: 5, requestsPerSecond: 2 });
		const stop = new AbortController();
		stop.abort();

		expect(await budget.acquire({}, stop.signal)).toBe(false);
		expect(budget.pending).toBe(0);
	});

	it('believes the portal when it refuses: the next request waits for a slot at the lowered rate', async () => {
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 20 });
		await ask(budget, {}, 10, []);
		budget.answered(true);

		const started = Date.now();
		await budget.acquire({});
		// One slot at 20 x 0.7 = 14 per second: 71 ms.
		expect(Date.now() - started).toBeGreaterThanOrEqual(55);
	});

	it('on a refusal lowers its rate a little under its share of the full portal, is back at the share within a second, and probes past it ever faster', () => {
		let now = 1_000_000;
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 20 }, () => now);

		// The first refusal: its share of the full portal is unknown, so it starts from the floor and probes upward.
		budget.answered(true);
		expect(budget.currentRate).toBeCloseTo(20 * SHARING.floorShare);
		// Refusals of requests sent before the cut arrive right after it: the same congestion, no second cut.
		budget.answered(true);
		expect(budget.currentRate).toBeCloseTo(20 * SHARING.floorShare);

		// The portal took 50 of its requests over the next five seconds, then refused again: full then and full
		// now, so 10 per second is this process's share of it.
		for (let answer = 0; answer < 50; answer++) {
			now += 100;
			budget.answered(false);
		}
		now += 100;
		budget.answered(true);
		expect(budget.currentRate).toBeCloseTo(10 * SHARING.decrease);
		now += SHARING.recoverySeconds * 1000;
		expect(budget.currentRate).toBeCloseTo(10);

		// Past the share slowly at first (the portal is likely full there)...
		now += SHARING.probeDoublingSeconds * 1000;
		expect(budget.currentRate - 10).toBeLessThan(0.2);
		// ...then doubling: the credential's whole rate within a few seconds (whoever filled the portal may have
		// left), and never more.
		now += 4000;
		expect(budget.currentRate).toBe(20);
	});

	it('never cuts below a floor, however many refusals', () => {
		let now = 0;
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 2 }, () => now);
		let lowest = Infinity;
		for (let refusal = 0; refusal < 100; refusal++) {
			// Each refusal just after the last cut's hold-off, so each one cuts; nothing gets through in between.
			now += Math.ceil((SHARING.holdoffSlots / budget.currentRate) * 1000) + 1;
			budget.answered(true);
			expect(budget.currentRate).toBeGreaterThanOrEqual(2 * SHARING.floorShare);
			lowest = Math.min(lowest, budget.currentRate);
		}
		expect(lowest).toBeCloseTo(2 * SHARING.floorShare);
	});

	it("remembers each method's operating reset a success reported, in milliseconds", () => {
		const budget = new PortalBudget({ burstLimit: 5, requestsPerSecond: 2 });
		budget.noteOperatingReset('imopenlines.crm.message.add', {
			operating_reset_at: 1762349466,
			operating: 0,
		});
		budget.noteOperatingReset('imopenlines.crm.message.add', undefined);
		budget.noteOperatingReset('imopenlines.crm.message.add', { operating_reset_at: 'soon' });
		budget.noteOperatingReset('user.search', { operating_reset_at: 1762349999 });

		expect(budget.operatingResetAt('imopenlines.crm.message.add')).toBe(1762349466000);
		expect(budget.operatingResetAt('user.search')).toBe(1762349999000);
		expect(budget.operatingResetAt('imopenlines.crm.chat.get')).toBeUndefined();
	});
});

describe('budgetSettings', () => {
	it.each([
		[
			{ requestsPerSecond: 5, burstLimit: 250 },
			{ requestsPerSecond: 5, burstLimit: 250 },
		],
		[{}, { requestsPerSecond: 2, burstLimit: 50 }],
		[
			{ requestsPerSecond: 0, burstLimit: -1 },
			{ requestsPerSecond: 2, burstLimit: 50 },
		],
		[
			{ requestsPerSecond: '5', burstLimit: 12.7 },
			{ requestsPerSecond: 2, burstLimit: 12 },
		],
	])('reads %p as %p', (credentials, expected) => {
		expect(budgetSettings(credentials)).toEqual(expected);
	});
});
