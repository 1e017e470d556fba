/**
 * Packs the package and installs the tarball into a scratch n8n user folder the way n8n's community
 * package installer does (npm, production only, no install scripts). n8n provides the peer dependency
 * n8n-workflow itself, so the scratch folder links the repo's copy in its place.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const PACKAGE_NAME = 'n8n-nodes-bitrix24-open-channels';

export interface InstalledPackage {
	/** <scratch>/nodes/node_modules/<package>, where n8n keeps installed community packages. */
	directory: string;
	/** Every path in the tarball, relative to its root. */
	tarballFiles: string[];
	cleanUp(): void;
}

const repoRoot = path.resolve(__dirname, '../..');

function run(command: string, args: string[], cwd: string): string {
	return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function packAndInstall(): InstalledPackage {
	const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-package-'));
	run('npm', ['run', '--silent', 'build'], repoRoot);
	const [packed] = JSON.parse(
		run('npm', ['pack', '--json', '--pack-destination', scratch], repoRoot),
	) as Array<{
		filename: string;
		files: Array<{ path: string }>;
	}>;
	const nodesFolder = path.join(scratch, 'nodes');
	fs.mkdirSync(path.join(nodesFolder, 'node_modules'), { recursive: true });
	fs.writeFileSync(
		path.join(nodesFolder, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true }),
	);
	run(
		'npm',
		[
			'install',
			path.join(scratch, packed.filename),
			'--omit=dev',
			'--ignore-scripts',
			'--legacy-peer-deps',
			'--no-audit',
			'--no-fund',
			'--no-package-lock',
			'--offline',
		],
		nodesFolder,
	);
	// After the install, which would prune it as extraneous.
	fs.symlinkSync(
		path.join(repoRoot, 'node_modules', 'n8n-workflow'),
		path.join(nodesFolder, 'node_modules', 'n8n-workflow'),
	);
	return {
		directory: path.join(nodesFolder, 'node_modules', PACKAGE_NAME),
		tarballFiles: packed.files.map((file) => file.path),
		cleanUp: () => fs.rmSync(scratch, { recursive: true, force: true }),
	};
}

export function readJson(file: string): Record<string, unknown> {
	return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function fileExists(file: string): boolean {
	return fs.existsSync(file);
}

export function resolveIn(directory: string, ...parts: string[]): string {
	return path.resolve(directory, ...parts);
}
