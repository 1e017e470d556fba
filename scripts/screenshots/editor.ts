/**
 * The steps a person takes in the n8n 2.x editor, for the screenshots: sign in, open a workflow, run it,
 * open a node's panel. Elements are found by the editor's own data-test-id attributes (the ones n8n's
 * Playwright tests use), by role or by label; no CSS classes of n8n's components except Element Plus's
 * dialog/notification classes for closing first-run pop-ups.
 */
import type { Locator, Page } from 'playwright-core';

export interface Account {
	email: string;
	password: string;
}

/** Waits until the page is painted with its web fonts and nothing moves any more (two animation frames). */
export async function settle(page: Page, extraMs = 300): Promise<void> {
	// Strings, not functions: they run in the browser, and this project's TypeScript has no DOM types.
	await page.evaluate('document.fonts.ready.then(() => undefined)');
	await page.evaluate(
		'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(undefined))))',
	);
	await page.waitForTimeout(extraMs);
}

/** The sign-in form, filled in as a person would. */
export async function signIn(page: Page, baseUrl: string, account: Account): Promise<void> {
	await page.goto(`${baseUrl}/signin`);
	const form = page.getByTestId('auth-form');
	await form.locator('input[name="emailOrLdapLoginId"]').fill(account.email);
	await form.locator('input[name="password"]').fill(account.password);
	await page.getByTestId('form-submit-button').click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 30_000 });
}

/**
 * Closes what a first visit may show over the editor: banners (`banner-<name>-close`), modal dialogs
 * (surveys, "what's new"), toasts. Returns how many it closed.
 */
export async function dismissOverlays(page: Page): Promise<number> {
	let closed = 0;
	const visible = (locator: Locator) => locator.filter({ visible: true });
	for (const button of await visible(
		page.locator('[data-test-id^="banner-"][data-test-id$="-close"]'),
	).all()) {
		await button.click().catch(() => undefined);
		closed++;
	}
	for (const dialog of await visible(page.locator('.el-overlay .el-dialog')).all()) {
		const close = dialog.locator('.el-dialog__headerbtn');
		if (await close.isVisible()) await close.click().catch(() => undefined);
		else await page.keyboard.press('Escape');
		closed++;
	}
	for (const button of await visible(
		page.locator('.el-notification .el-notification__closeBtn'),
	).all()) {
		await button.click().catch(() => undefined);
		closed++;
	}
	return closed;
}

/** A node on the canvas, by its name. */
export function canvasNode(page: Page, name: string): Locator {
	return page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"]`);
}

/** The item count on the edge between two nodes ("3 items"), as the canvas labels it after a run. */
export function edgeLabel(page: Page, source: string, target: string): Locator {
	return page.locator(
		`[data-test-id="edge-label"][data-source-node-name="${source}"][data-target-node-name="${target}"]`,
	);
}

/**
 * Clicks the canvas's top left corner (empty once n8n has fitted the workflow into view): no node stays
 * selected, and the pointer rests where hovering shows nothing.
 */
export async function clearCanvasSelection(page: Page): Promise<void> {
	await page.getByTestId('canvas-wrapper').click({ position: { x: 12, y: 12 } });
	// The canvas takes no focus: whatever had it (a sidebar link, after the panel closed) would stay outlined.
	await page.evaluate('document.activeElement && document.activeElement.blur()');
	await settle(page);
}

/** Opens the workflow and waits until all its nodes are drawn on the canvas. */
export async function openWorkflow(
	page: Page,
	baseUrl: string,
	workflowId: string,
	nodeNames: readonly string[],
): Promise<void> {
	await page.goto(`${baseUrl}/workflow/${workflowId}`);
	await page.getByTestId('canvas-wrapper').waitFor();
	for (const name of nodeNames) await canvasNode(page, name).waitFor();
	await settle(page);
	await dismissOverlays(page);
}

/**
 * Clicks "Execute workflow" and waits until every given edge shows its item count with the success
 * colour, i.e. the run reached the end of each branch. Returns the counts, "source -> target": n.
 */
export async function executeWorkflow(
	page: Page,
	edges: ReadonlyArray<readonly [string, string]>,
	timeoutMs = 60_000,
): Promise<Record<string, number>> {
	await page.getByTestId('execute-workflow-button').click();
	const counts: Record<string, number> = {};
	for (const [source, target] of edges) {
		const label = edgeLabel(page, source, target);
		await label.and(page.locator('[data-edge-status="success"]')).waitFor({ timeout: timeoutMs });
		const text = (await label.innerText()).trim();
		const match = /^(\d+) items?$/.exec(text);
		if (!match)
			throw new Error(`The edge ${source} -> ${target} reads "${text}", not an item count`);
		counts[`${source} -> ${target}`] = Number(match[1]);
	}
	await closeRunToast(page);
	return counts;
}

/**
 * A run ends with a toast ("Workflow executed successfully", "Node executed successfully") a moment after
 * its last items are drawn: waits for it (up to 10 s) and closes it.
 */
async function closeRunToast(page: Page): Promise<void> {
	const toast = page.locator('.el-notification').filter({ visible: true }).first();
	await toast.waitFor({ timeout: 10_000 }).catch(() => undefined);
	await dismissOverlays(page);
	await toast.waitFor({ state: 'hidden' }).catch(() => undefined);
	await settle(page);
}

/**
 * Clicks the panel's "Execute step" (the node runs again on the input it had) and waits for the output's
 * branch tabs ("Success Branch (3 items)"). Returns the tabs' texts.
 */
export async function executeStep(page: Page, panel: Locator): Promise<string[]> {
	await panel.getByTestId('node-execute-button').click();
	await closeRunToast(page);
	const output = panel.getByTestId('output-panel');
	await output.getByTestId('node-run-status-success').waitFor();
	const tabs = output.getByTestId('branches').getByRole('tab');
	await tabs.first().waitFor();
	return (await tabs.allInnerTexts()).map((text) => text.trim());
}

/** Opens a node's panel (NDV) with a double click and waits until its parameters are drawn. */
export async function openNodePanel(page: Page, name: string): Promise<Locator> {
	await canvasNode(page, name).dblclick();
	const panel = page.getByTestId('ndv');
	await panel.waitFor();
	await panel.getByTestId('node-parameters').waitFor();
	await settle(page);
	return panel;
}

/** Adds options of a collection parameter ("Add Option" > each display name), with their defaults. */
export async function addCollectionOptions(
	page: Page,
	panel: Locator,
	displayNames: readonly string[],
): Promise<void> {
	const parameters = panel.getByTestId('node-parameters');
	for (const displayName of displayNames) {
		await parameters.getByTestId('collection-parameter-add').filter({ visible: true }).click();
		await page
			.getByTestId('collection-parameter-option')
			.filter({ hasText: displayName, visible: true })
			.click();
		await parameters.getByText(displayName, { exact: true }).waitFor();
	}
	// Away from the fields, so no hover or focus styling is captured.
	await page.mouse.move(0, 0);
	await page.evaluate('document.activeElement && document.activeElement.blur()');
	await settle(page);
}

/** Throws unless the element is drawn entirely inside the viewport (a screenshot would cut it). */
export async function expectInViewport(page: Page, locator: Locator, what: string): Promise<void> {
	await locator.waitFor();
	const box = await locator.boundingBox();
	const viewport = page.viewportSize();
	if (!box || !viewport) throw new Error(`${what} is not drawn`);
	if (
		box.x < 0 ||
		box.y < 0 ||
		box.x + box.width > viewport.width ||
		box.y + box.height > viewport.height
	) {
		throw new Error(
			`${what} is outside the ${viewport.width}x${viewport.height} viewport (at ${Math.round(box.x)},${Math.round(box.y)}, ${Math.round(box.width)}x${Math.round(box.height)})`,
		);
	}
}
