import { sleepUnless } from '../../../nodes/shared/sleepUnless';

describe('sleepUnless', () => {
	it('waits the whole time when nothing wakes it', async () => {
		const started = Date.now();
		await sleepUnless(600, new Promise(() => undefined));
		expect(Date.now() - started).toBeGreaterThanOrEqual(590);
	});

	it('returns as soon as the wake settles, leaving no long timer behind', async () => {
		let wake!: () => void;
		const woken = new Promise<void>((resolve) => (wake = resolve));
		const waiting = sleepUnless(60 * 60 * 1000, woken);
		wake();
		// Within the test's timeout, far short of the hour; an hour's timer left behind would keep jest from exiting.
		await expect(waiting).resolves.toBeUndefined();
	});

	it('also returns when the wake is a rejection', async () => {
		await expect(
			sleepUnless(60 * 60 * 1000, Promise.reject(new Error('stopped'))),
		).resolves.toBeUndefined();
	});
});
