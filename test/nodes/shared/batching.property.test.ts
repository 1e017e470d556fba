/**
 * Property tests of batching with random keys and values (& = # ? [ ] % $ + ;, spaces, Unicode, emoji, half
 * surrogate pairs, NUL, empty and very long text): a batch command carries exactly the call's own parameters, and
 * every operation that batches asks the portal the same and ends each item the same in batch mode as one request
 * per call (n8n's engine, the emulated portal). The seed is fixed, so CI runs the same cases every time;
 * `npm run bench -- --only fuzz` runs many more with a random seed.
 */
import * as fc from 'fast-check';

import { commandProperty, PARITY_CASES, parityProperty } from '../../../tools/harness/batchParity';
import { useEmulator } from '../../../tools/harness/useEmulator';

const SEED = 20_261_201;

describe('batchFormOf, for any parameters', () => {
	it("a command it calls faithful reads back byte for byte as the call's own parameters; the bot token appended after it survives", () => {
		fc.assert(commandProperty(), { seed: SEED, numRuns: 3_000 });
	});
});

describe('batch mode and one request per call, through n8n and the emulated portal', () => {
	const emulator = useEmulator({ burstLimit: 100_000, requestsPerSecond: 10_000 });
	/** Runs per operation: the ones that carry free text and structure get more. */
	const RUNS: Record<string, number> = {
		'CRM Chat > Send Message': 80,
		'Bot Dialog > Send Message': 120,
	};

	it.each(Object.keys(PARITY_CASES))(
		'%s: the portal receives the same calls, and each item ends the same',
		async (operation) => {
			await fc.assert(parityProperty(emulator, PARITY_CASES[operation]), {
				seed: SEED,
				numRuns: RUNS[operation] ?? 40,
			});
		},
		60_000,
	);
});
