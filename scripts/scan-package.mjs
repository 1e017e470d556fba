#!/usr/bin/env node
/**
 * `npm run scan`: what `npx @n8n/scan-community-package` checks before n8n verifies a community package,
 * run offline on this checkout. The real scanner downloads the published tarball and the source its
 * npm provenance names; here the source is this checkout and the tarball is `npm pack` of it. Both
 * legs use the scanner's own lint configuration and file patterns.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
	analyzePackage,
	SOURCE_FILE_PATTERNS,
} from '@n8n/scan-community-package/scanner/scanner.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-scan-'));

try {
	execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
	const [packed] = JSON.parse(
		execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
			cwd: repoRoot,
			encoding: 'utf8',
		}),
	);
	const packageDir = path.join(scratch, 'package');
	execFileSync('tar', ['-xzf', path.join(scratch, packed.filename), '-C', scratch]);

	const legs = [
		[
			'source (nodes, credentials, package.json)',
			await analyzePackage(repoRoot, SOURCE_FILE_PATTERNS),
		],
		[
			`tarball ${packed.filename} (dist/**/*.js, package.json)`,
			await analyzePackage(packageDir, ['**/*.js', 'package.json']),
		],
	];
	for (const [label, result] of legs) {
		console.log(
			`${result.passed ? 'PASS' : 'FAIL'}  ${label}${result.message ? `: ${result.message}` : ''}`,
		);
		if (result.details) console.log(result.details);
	}
	if (legs.some(([, result]) => !result.passed)) process.exitCode = 1;
} finally {
	fs.rmSync(scratch, { recursive: true, force: true });
}
