import { sleep } from 'n8n-workflow';

/**
 * A timer left running after its wait was cut short keeps the process busy (and a test runner waiting) until it
 * fires, and n8n-workflow's sleep cannot be cancelled: so long waits are slept in short steps.
 */
const STEP_MS = 250;

/** Waits `ms`, or less when `wake` settles first (checked between steps of at most a quarter of a second). */
export async function sleepUnless(ms: number, wake: Promise<unknown>): Promise<void> {
	let woken = false;
	const settle = () => {
		woken = true;
	};
	const settled = wake.then(settle, settle);
	const until = Date.now() + ms;
	for (let left = ms; !woken && left > 0; left = until - Date.now()) {
		await Promise.race([sleep(Math.min(left, STEP_MS)), settled]);
	}
}
