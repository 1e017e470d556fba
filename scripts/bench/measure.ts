/**
 * Measuring helpers for `npm run bench`: what the emulated portal recorded (delivered, duplicates),
 * the physical limit of a budget, process memory peaks, and table formatting.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

import type { RecordedMessage } from '../../tools/emulator';

export interface Budget {
	burstLimit: number;
	requestsPerSecond: number;
}

/** Bitrix24's `batch` carries at most 50 commands. */
export const BATCH_SIZE = 50;

/**
 * The fastest the budget allows `requests` requests to go out: the burst at once, the rest at the
 * drain rate. 0 when everything fits in the burst.
 */
export function physicalLimitSeconds(requests: number, budget: Budget): number {
	return Math.max(0, requests - budget.burstLimit) / budget.requestsPerSecond;
}

/** What the portal recorded for the items' texts: how many arrived, how many more than once, how many stray. */
export function deliveryOf(texts: readonly string[], messages: readonly RecordedMessage[]) {
	const expected = new Set(texts);
	const counts = new Map<string, number>();
	let stray = 0;
	for (const { message } of messages) {
		if (!expected.has(message)) stray += 1;
		else counts.set(message, (counts.get(message) ?? 0) + 1);
	}
	let duplicates = 0;
	for (const count of counts.values()) duplicates += count - 1;
	return { delivered: counts.size, duplicates, stray };
}

/** A full garbage collection, so each scenario's memory peak starts from the same floor. */
export const collectGarbage: () => void = (() => {
	v8.setFlagsFromString('--expose-gc');
	const gc = vm.runInNewContext('gc') as (() => void) | undefined;
	return typeof gc === 'function' ? gc : () => undefined;
})();

export interface MemoryPeak {
	rssMb: number;
	heapUsedMb: number;
}

/** Samples process.memoryUsage() every 50 ms until stopped; returns the peaks (whole process: engine, node and emulator). */
export function sampleMemory(): () => MemoryPeak {
	let rss = 0;
	let heapUsed = 0;
	const sample = () => {
		const usage = process.memoryUsage();
		rss = Math.max(rss, usage.rss);
		heapUsed = Math.max(heapUsed, usage.heapUsed);
	};
	sample();
	const timer = setInterval(sample, 50);
	return () => {
		clearInterval(timer);
		sample();
		const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
		return { rssMb: mb(rss), heapUsedMb: mb(heapUsed) };
	};
}

export function markdownTable(
	header: readonly string[],
	rows: ReadonlyArray<readonly string[]>,
): string {
	const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
	return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export const thousands = (value: number) => value.toLocaleString('en-US');

export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
