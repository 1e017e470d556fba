/**
 * Headless Chromium for the screenshots: Debian's `chromium` package driven by playwright-core. No browser is
 * ever downloaded (never `npx playwright install`): the script fails with the install command instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { chromium, selectors, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian's `chromium` package puts its launcher. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run',
];

/** Throws with the install command when Debian's Chromium is missing. */
export function checkChromium(): void {
	if (fs.existsSync(CHROMIUM_PATH)) return;
	throw new Error(
		[
			`Chromium was not found at ${CHROMIUM_PATH}.`,
			"The screenshots are taken with Debian's chromium package; install it as root:",
			'  apt-get update && apt-get install -y chromium',
			'(Do not use `npx playwright install`: no browser is downloaded from anywhere else.)',
		].join('\n'),
	);
}

export interface Browser {
	page: Page;
	close(): Promise<void>;
}

/**
 * Chromium with a fresh profile (its --user-data-dir, removed on close), a fixed viewport, light colours,
 * English UI and UTC, so that every run renders the editor the same way.
 */
export async function launchBrowser(viewport: { width: number; height: number }): Promise<Browser> {
	checkChromium();
	// The n8n editor marks its elements with data-test-id; getByTestId() looks for that attribute.
	selectors.setTestIdAttribute('data-test-id');
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-screenshots-chromium-'));
	let context: BrowserContext;
	try {
		// launchPersistentContext passes the profile as --user-data-dir (playwright refuses it among the args).
		context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM_PATH,
			headless: true,
			args: CHROMIUM_FLAGS,
			viewport,
			deviceScaleFactor: 1,
			colorScheme: 'light',
			reducedMotion: 'reduce',
			locale: 'en-US',
			timezoneId: 'UTC',
		});
	} catch (error) {
		fs.rmSync(profile, { recursive: true, force: true });
		throw error;
	}
	const page = context.pages()[0] ?? (await context.newPage());
	page.setDefaultTimeout(30_000);
	return {
		page,
		close: async () => {
			await context.close().catch(() => undefined);
			fs.rmSync(profile, { recursive: true, force: true });
		},
	};
}
