/**
 * `npm run screenshots`: the README's pictures, taken from a real n8n editor.
 *
 *   npx tsx scripts/screenshots.ts [--port N] [--emulator-port N] [--out DIR] [--keep] [--verbose]
 *
 * Starts what `npm run dev` starts (scripts/dev.ts: n8n 2.41.1 with this package installed, the Bitrix24
 * portal emulator, the example workflow and its credential, the owner account), on free ports and in a fresh
 * user folder, so a running `npm run dev` is not disturbed. Then, in headless Chromium (Debian's package,
 * driven by playwright-core), it signs in as the scripted owner and writes:
 *
 * - docs/screenshots/example-workflow.png: the example workflow after "Execute workflow", item counts on
 *   every edge, both branches of the Bitrix24 node (Sent and Needs attention) with items;
 * - docs/screenshots/node-panel.png: the Bitrix24 Open Channels node's panel after that run, with the input
 *   items, every parameter (credential, resource, operation, CRM entity type and ID, sender, send to, chat,
 *   message, the three options at their defaults) and the output's success and error branches.
 *
 * The options are added in the panel for the picture (then "Execute step" runs the node with them, so the
 * output shown is current); the workflow is not saved. Everything the script starts
 * (n8n, the emulator, Chromium) is stopped at the end, also on failure or Ctrl+C.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DEV_OWNER, startDev, type DevEnvironment } from './dev';
import { cacheRoot, REPO_ROOT } from '../tools/n8n/lines';
import { freePort } from '../tools/n8n/runner';
import { loadExample, NODES } from '../tools/n8n/workflows';
import { checkChromium, launchBrowser, type Browser } from './screenshots/browser';
import {
	addCollectionOptions,
	clearCanvasSelection,
	executeStep,
	executeWorkflow,
	expectInViewport,
	openNodePanel,
	openWorkflow,
	settle,
	signIn,
} from './screenshots/editor';
import { runWhenStarted } from '../tools/runWhenStarted';

/** The pictures' sizes (CSS pixels, device scale factor 1): the panel needs the height for every parameter. */
const WORKFLOW_VIEWPORT = { width: 1440, height: 900 } as const;
const PANEL_VIEWPORT = { width: 1440, height: 1200 } as const;

/** The node's options, added in the panel so the picture shows them (display names, in this order). */
const OPTIONS_SHOWN = ['Send in Batches', 'Batch Size', 'Add Sender to Chat'] as const;

interface ScreenshotOptions {
	port?: number;
	emulatorPort?: number;
	out: string;
	keep: boolean;
	verbose: boolean;
}

const USAGE =
	'Usage: npm run screenshots -- [--port N] [--emulator-port N] [--out DIR] [--keep] [--verbose]';

function parseArgs(argv: readonly string[]): ScreenshotOptions | 'help' {
	const options: ScreenshotOptions = {
		out: path.join(REPO_ROOT, 'docs', 'screenshots'),
		keep: false,
		verbose: false,
	};
	for (let i = 0; i < argv.length; i++) {
		const [flag = '', inline] = (argv[i] ?? '').split('=', 2);
		const value = () => inline ?? argv[++i] ?? '';
		const port = () => {
			const number = Number(value());
			if (!Number.isInteger(number) || number <= 0) throw new Error(`${flag} needs a port number`);
			return number;
		};
		if (flag === '--help' || flag === '-h') return 'help';
		else if (flag === '--port') options.port = port();
		else if (flag === '--emulator-port') options.emulatorPort = port();
		else if (flag === '--out') options.out = path.resolve(value());
		else if (flag === '--keep') options.keep = true;
		else if (flag === '--verbose') options.verbose = true;
		else throw new Error(`Unknown argument ${argv[i]}\n${USAGE}`);
	}
	return options;
}

export async function main(argv: readonly string[] = []): Promise<void> {
	const options = parseArgs(argv);
	if (options === 'help') {
		console.log(USAGE);
		return;
	}
	checkChromium();
	const example = loadExample();
	const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
	const userFolder = path.join(cacheRoot(), 'runs', `screenshots-${stamp}-${process.pid}`);
	const port = options.port ?? (await freePort());
	const emulatorPort = options.emulatorPort ?? (await freePort());

	let dev: DevEnvironment | undefined;
	let browser: Browser | undefined;
	let cleaning: Promise<void> | undefined;
	const cleanUp = () =>
		(cleaning ??= (async () => {
			await browser?.close();
			await dev?.stop();
			if (!options.keep) fs.rmSync(userFolder, { recursive: true, force: true });
		})());
	const onSignal = (signal: NodeJS.Signals) => {
		console.log(`\n${signal}: stopping Chromium, n8n and the emulator`);
		void cleanUp().finally(() => process.exit(130));
	};
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);

	try {
		dev = await startDev(
			[
				'--port',
				String(port),
				'--emulator-port',
				String(emulatorPort),
				'--user-folder',
				userFolder,
				'--fresh',
				...(options.verbose ? ['--verbose'] : []),
			],
			(line) => console.log(line),
		);
		browser = await launchBrowser(WORKFLOW_VIEWPORT);
		const { page } = browser;
		fs.mkdirSync(options.out, { recursive: true });

		console.log(`Chromium: signing in as ${DEV_OWNER.email}`);
		await signIn(page, dev.editorUrl, DEV_OWNER);

		console.log(`Chromium: opening "${example.name}" and clicking Execute workflow`);
		await openWorkflow(page, dev.editorUrl, example.id, Object.values(NODES));
		const counts = await executeWorkflow(page, [
			[NODES.trigger, NODES.items],
			[NODES.items, NODES.bitrix24],
			[NODES.bitrix24, NODES.sent],
			[NODES.bitrix24, NODES.failed],
		]);
		for (const [edge, count] of Object.entries(counts)) console.log(`  ${edge}: ${count} item(s)`);
		for (const target of [NODES.sent, NODES.failed]) {
			if (!counts[`${NODES.bitrix24} -> ${target}`])
				throw new Error(`The branch to "${target}" got no items`);
		}
		await clearCanvasSelection(page);
		const workflowShot = path.join(options.out, 'example-workflow.png');
		await page.screenshot({ path: workflowShot });
		console.log(`  wrote ${path.relative(process.cwd(), workflowShot)}`);

		console.log(`Chromium: opening the "${NODES.bitrix24}" node's panel`);
		await page.setViewportSize(PANEL_VIEWPORT);
		const panel = await openNodePanel(page, NODES.bitrix24);
		console.log(`  adding the options ${OPTIONS_SHOWN.join(', ')} and clicking Execute step`);
		await addCollectionOptions(page, panel, OPTIONS_SHOWN);
		// The node runs again with its options, so the output shown is current (no "parameters changed" mark).
		const branches = await executeStep(page, panel);
		console.log(`  output: ${branches.join(', ')}`);
		if (!branches.every((text) => /\((?!0 )\d+ items?\)/.test(text)))
			throw new Error(`An output branch is empty: ${branches.join(', ')}`);
		await page.mouse.move(0, 0);
		const fields: Array<[string, string]> = [
			['node-credentials-select', 'Credential'],
			['parameter-input-resource', 'Resource'],
			['parameter-input-operation', 'Operation'],
			['parameter-input-crmEntityType', 'CRM Entity Type'],
			['parameter-input-crmEntityId', 'CRM Entity ID'],
			['parameter-input-userId', 'Sender'],
			['parameter-input-chatSource', 'Send To'],
			['parameter-input-chatId', 'Chat'],
			['parameter-input-message', 'Message'],
		];
		for (const [testId, what] of fields)
			await expectInViewport(page, panel.getByTestId(testId), what);
		for (const option of OPTIONS_SHOWN) {
			await expectInViewport(
				page,
				panel.getByTestId('node-parameters').getByText(option, { exact: true }),
				`Option ${option}`,
			);
		}
		await settle(page);
		const panelShot = path.join(options.out, 'node-panel.png');
		await page.screenshot({ path: panelShot });
		console.log(`  wrote ${path.relative(process.cwd(), panelShot)}`);
	} finally {
		await cleanUp();
		process.removeListener('SIGINT', onSignal);
		process.removeListener('SIGTERM', onSignal);
		if (options.keep) console.log(`n8n user folder kept: ${userFolder}`);
	}
}

runWhenStarted(module, main);
