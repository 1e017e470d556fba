/** Link jitter: a random hold before each REST call is processed, so concurrent calls may overtake. */

/** mulberry32: a tiny seeded PRNG giving floats in [0, 1); the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = Math.imul(state ^ (state >>> 15), state | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Successive holds in whole milliseconds, each in 0..maxMs; always 0 when maxMs is not positive. */
export function jitterDelays(maxMs: number, seed: number): () => number {
	const random = mulberry32(seed);
	return () => (maxMs > 0 ? Math.floor(random() * (maxMs + 1)) : 0);
}
