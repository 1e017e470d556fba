import { budgetSettings, PortalBudget } from '../../../../nodes/Bitrix24OpenChannels/shared/pacing';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
	let now = start;
	return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('PortalBudget', () => {
	it('lets a burst through at once, keeping one slot of headroom', () => {
		const clock = fakeClock();
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 2 }, clock.now);

		const waits = Array.from({ length: 49 }, () => budget.reserve());

		expect(waits.every((wait) => wait === 0)).toBe(true);
		expect(budget.pending).toBe(49);
	});

	it('spaces the requests after the burst by the drain rate, in the order they asked', () => {
		const clock = fakeClock();
		const budget = new PortalBudget({ burstLimit: 5, requestsPerSecond: 2 }, clock.now);
		for (let i = 0; i < 4; i++) budget.reserve();

		expect([budget.reserve(), budget.reserve(), budget.reserve()]).toEqual([500, 1000, 1500]);
	});

	it('drains with time', () => {
		const clock = fakeClock();
		const budget = new PortalBudget({ burstLimit: 5, requestsPerSecond: 2 }, clock.now);
		for (let i = 0; i < 4; i++) budget.reserve();
		clock.advance(1000);

		expect(budget.pending).toBe(2);
		expect([budget.reserve(), budget.reserve(), budget.reserve()]).toEqual([0, 0, 500]);
	});

	it('never lets more than the burst reach the portal at any moment', () => {
		const clock = fakeClock();
		const { burstLimit, requestsPerSecond } = { burstLimit: 10, requestsPerSecond: 4 };
		const budget = new PortalBudget({ burstLimit, requestsPerSecond }, clock.now);
		// 200 requests asking at scattered moments; each is sent at now + its wait.
		const sendTimes: number[] = [];
		for (let i = 0; i < 200; i++) {
			if (i % 7 === 0) clock.advance(130);
			sendTimes.push(clock.now() + budget.reserve());
		}
		// Replay the portal's leaky bucket over the send times: it must never overflow.
		sendTimes.sort((a, b) => a - b);
		let level = 0;
		let last = sendTimes[0];
		for (const at of sendTimes) {
			level = Math.max(0, level - ((at - last) / 1000) * requestsPerSecond);
			last = at;
			level += 1;
			expect(level).toBeLessThanOrEqual(burstLimit);
		}
	});

	it('believes the portal when it says the bucket is full', () => {
		const clock = fakeClock();
		const budget = new PortalBudget({ burstLimit: 50, requestsPerSecond: 2 }, clock.now);
		budget.markFull();

		expect(budget.pending).toBe(50);
		// A full bucket of 50 must drain to 48 before the next request fits under 49.
		expect(budget.reserve()).toBe(1000);
	});

	it('adopts new settings without forgetting what is queued', () => {
		const clock = fakeClock();
		const budget = new PortalBudget({ burstLimit: 5, requestsPerSecond: 2 }, clock.now);
		for (let i = 0; i < 4; i++) budget.reserve();
		budget.resize({ burstLimit: 5, requestsPerSecond: 4 });

		expect(budget.reserve()).toBe(250);
	});

	it('remembers the operating reset a success reported, in milliseconds', () => {
		const budget = new PortalBudget({ burstLimit: 5, requestsPerSecond: 2 });
		budget.noteOperatingReset({ operating_reset_at: 1762349466, operating: 0 });
		budget.noteOperatingReset(undefined);
		budget.noteOperatingReset({ operating_reset_at: 'soon' });

		expect(budget.operatingResetAt).toBe(1762349466000);
	});
});

describe('budgetSettings', () => {
	it.each([
		[{ requestsPerSecond: 5, burstLimit: 250 }, { requestsPerSecond: 5, burstLimit: 250 }],
		[{}, { requestsPerSecond: 2, burstLimit: 50 }],
		[{ requestsPerSecond: 0, burstLimit: -1 }, { requestsPerSecond: 2, burstLimit: 50 }],
		[{ requestsPerSecond: '5', burstLimit: 12.7 }, { requestsPerSecond: 2, burstLimit: 12 }],
	])('reads %p as %p', (credentials, expected) => {
		expect(budgetSettings(credentials)).toEqual(expected);
	});
});
