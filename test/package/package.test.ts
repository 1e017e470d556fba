import { PackageDirectoryLoader } from 'n8n-core';
import type { INodeType } from 'n8n-workflow';

import {
	fileExists,
	packAndInstall,
	PACKAGE_NAME,
	readJson,
	resolveIn,
	type InstalledPackage,
} from './packedPackage';

let installed: InstalledPackage;
let loader: PackageDirectoryLoader;

beforeAll(async () => {
	installed = packAndInstall();
	loader = new PackageDirectoryLoader(installed.directory);
	await loader.loadAll();
}, 180_000);

afterAll(() => installed?.cleanUp());

describe('the published package, installed the way n8n installs community packages', () => {
	it('ships dist only: no sources, tests, emulator, scripts or source maps', () => {
		const unexpected = installed.tarballFiles.filter(
			(file) =>
				!['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(file) &&
				!file.startsWith('dist/'),
		);
		expect(unexpected).toEqual([]);
		expect(
			installed.tarballFiles.filter((file) =>
				/\.map$|\.tsbuildinfo$|(^|\/)test\/|emulator/.test(file),
			),
		).toEqual([]);
		expect(installed.tarballFiles).toContain('README.md');
	});

	it('has no runtime dependencies and declares n8n-workflow as a peer', () => {
		const packageJson = readJson(resolveIn(installed.directory, 'package.json'));
		expect(packageJson.dependencies ?? {}).toEqual({});
		expect(packageJson.peerDependencies).toEqual({ 'n8n-workflow': '*' });
		expect(packageJson.keywords).toContain('n8n-community-node-package');
	});

	it('loads both nodes and both credentials from the paths in its n8n block', () => {
		expect(loader.packageName).toBe(PACKAGE_NAME);
		expect(Object.keys(loader.nodeTypes)).toEqual([
			'bitrix24OpenChannels',
			'bitrix24OpenChannelsTrigger',
		]);
		expect(Object.keys(loader.credentialTypes).sort()).toEqual([
			'bitrix24OAuth2Api',
			'bitrix24WebhookApi',
		]);
		const node = loader.nodeTypes.bitrix24OpenChannels.type as INodeType;
		expect(node.description.displayName).toBe('Bitrix24 Open Channels');
		expect(node.description.usableAsTool).toBe(true);
		expect(Object.keys(node.methods?.listSearch ?? {}).sort()).toEqual([
			'getBotDialogs',
			'getBots',
			'getChats',
			'getOpenChannels',
			'getOperators',
			'getSenders',
		]);
		const trigger = loader.nodeTypes.bitrix24OpenChannelsTrigger.type as INodeType;
		expect(trigger.description.group).toEqual(['trigger']);
		// n8n's loader adds Poll Times to polling nodes; the webhook lifecycle is complete.
		expect(trigger.description.properties.map((p) => p.name)).toContain('pollTimes');
		expect(Object.keys(trigger.webhookMethods?.default ?? {}).sort()).toEqual([
			'checkExists',
			'create',
			'delete',
		]);
	});

	it('finds every icon it names, light and dark, for the node and the credentials', () => {
		const described = [
			...Object.values(loader.types.nodes),
			...Object.values(loader.types.credentials),
		] as Array<{ name: string; iconUrl?: { light: string; dark: string } }>;
		expect(described).toHaveLength(4);
		for (const { iconUrl } of described) {
			expect(iconUrl).toEqual({
				light: `icons/${PACKAGE_NAME}/dist/icons/bitrix24.svg`,
				dark: `icons/${PACKAGE_NAME}/dist/icons/bitrix24.dark.svg`,
			});
		}
		for (const icon of ['dist/icons/bitrix24.svg', 'dist/icons/bitrix24.dark.svg']) {
			expect(fileExists(resolveIn(installed.directory, icon))).toBe(true);
			expect(installed.tarballFiles).toContain(icon);
		}
	});

	it('carries its codex for each node: categories and documentation links', () => {
		const descriptions = loader.types.nodes as Array<{
			codex?: { categories?: string[]; resources?: unknown };
		}>;
		expect(descriptions).toHaveLength(2);
		for (const description of descriptions) {
			expect(description.codex?.categories).toEqual(['Communication', 'Sales']);
			expect(JSON.stringify(description.codex?.resources)).toContain('#credentials');
		}
	});
});
