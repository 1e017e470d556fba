/**
 * Fuzz rows of `npm run bench` (`--only fuzz`): the properties of test/nodes/shared/batching.property.test.ts
 * (tools/harness/batchParity.ts) with many more runs and a random seed, printed so that a failure can be replayed
 * with `--seed`. `fuzz-batch-command`: any parameters' batch command reads back as the parameters themselves.
 * `fuzz-batch-parity`: random items through every operation that batches, in n8n's engine against the emulated
 * portal, in batch mode and one request per call; the portal must receive the same calls and each item end the same.
 */
import { performance } from 'node:perf_hooks';

import * as fc from 'fast-check';

import { startEmulator } from '../../tools/emulator';
import { commandProperty, parityProperty } from '../../tools/harness/batchParity';
import { markdownTable, seconds, thousands } from './measure';

export interface FuzzScenario {
	id: string;
	runs: number;
	about: string;
}

export const FUZZ_SCENARIOS: FuzzScenario[] = [
	{
		id: 'fuzz-batch-command',
		runs: 200_000,
		about: 'batch command of any parameters reads back as them (parse_str)',
	},
	{
		id: 'fuzz-batch-parity',
		runs: 5_000,
		about: 'every batching operation, batch mode vs one request per call (n8n engine, emulator)',
	},
];

export const FUZZ_ABOUT =
	'Fuzz rows: fast-check stops at the first failing run and shrinks it to a smallest case, printed under the ' +
	'table; the command replays the row with the same seed and runs.';

export interface FuzzResult {
	scenario: FuzzScenario;
	seed: number;
	runs: number;
	failed: boolean;
	wallMs: number;
	/** The shrunk case and the error, when a run failed. */
	failure?: string;
}

/** A seed fast-check takes (a 32-bit integer). */
export const randomSeed = () => Math.floor(Math.random() * 0x7fff_ffff);

export async function runFuzz(
	scenario: FuzzScenario,
	seed: number,
	runs = scenario.runs,
): Promise<FuzzResult> {
	const started = performance.now();
	const emulator =
		scenario.id === 'fuzz-batch-parity'
			? await startEmulator({ burstLimit: 100_000, requestsPerSecond: 10_000 })
			: undefined;
	try {
		const details = emulator
			? await fc.check(parityProperty(emulator), { seed, numRuns: runs })
			: fc.check(commandProperty(), { seed, numRuns: runs });
		return {
			scenario,
			seed,
			runs: details.numRuns,
			failed: details.failed,
			wallMs: performance.now() - started,
			failure: details.failed
				? `${fc.stringify(details.counterexample)}\n${String(details.errorInstance)}`
				: undefined,
		};
	} finally {
		await emulator?.close();
	}
}

const replay = (result: FuzzResult) =>
	`\`npm run bench -- --only ${result.scenario.id} --seed ${result.seed} --runs ${result.runs}\``;

export function fuzzTable(results: readonly FuzzResult[]): string {
	return markdownTable(
		['Row', 'What', 'Runs', 'Failures', 'Seed', 'Wall time', 'Command'],
		results.map((result) => [
			result.scenario.id,
			result.scenario.about,
			thousands(result.runs),
			result.failed ? '1 (stopped there)' : '0',
			String(result.seed),
			seconds(result.wallMs),
			replay(result),
		]),
	);
}

/** The shrunk failing cases, one paragraph each. */
export function fuzzFailures(results: readonly FuzzResult[]): string[] {
	return results
		.filter((result) => result.failure !== undefined)
		.map((result) => `- ${result.scenario.id} failed (seed ${result.seed}):\n${result.failure}`);
}
