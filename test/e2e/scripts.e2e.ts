/**
 * On the 2.x line: a package n8n cannot load fails the run; `npm run demo` and `npm run demo:bot` (their scripts,
 * on the already built package) report what the README says; and the set-up behind `npm run dev` gives a working editor (owner
 * signed in, example workflow and credentials present, node type loaded, the workflow runs from the editor).
 */
import { startDev, DEV_OAUTH_CREDENTIAL, DEV_OWNER } from '../../scripts/dev';
import {
	freePort,
	outputItems,
	parseExecutionData,
	type ExecutionResult,
} from '../../tools/n8n/runner';
import { NODES, exampleWebhookCredential, loadExample } from '../../tools/n8n/workflows';
import { ensureN8n } from '../../tools/n8n/install';
import { N8nSession } from '../../tools/n8n/runner';
import {
	breakInstalledPackage,
	linesUnderTest,
	progress,
	removeScratch,
	runRepoScript,
	scratchFolder,
	timed,
	waitFor,
} from './support/harness';

const run2x = linesUnderTest().includes('2.x') ? describe : describe.skip;

run2x('package loading, npm run demo and npm run dev (n8n 2.x)', () => {
	test('a package n8n cannot load fails the run (n8n only logs "Failed to load package" and goes on)', async () => {
		const session = await N8nSession.open(await ensureN8n('2.x', progress), {
			name: 'broken-package',
			log: progress,
		});
		try {
			await expect(session.command(['list:workflow'])).resolves.toEqual(
				expect.objectContaining({ code: 0 }),
			);
			breakInstalledPackage(session);
			await expect(session.command(['list:workflow'])).rejects.toThrow(
				/n8n could not load the package: .*Failed to load package/,
			);
		} finally {
			session.remove();
		}
	});

	test('npm run demo prints the sent messages with their IDs and the error-output items with their reasons', async () => {
		const { code, output } = await timed(
			'2.x: demo script',
			async () => await runRepoScript('scripts/demo.ts'),
		);
		if (code !== 0) progress(output);
		expect(code).toBe(0);
		const ids = [...output.matchAll(/message ID (\d+)/g)].map((m) => Number(m[1]));
		expect(ids).toHaveLength(3);
		expect(output).toContain('Sent (3)');
		expect(output).toContain('Not sent (3)');
		for (const reason of ['(CHAT_NOT_IN_CRM)', '(CANCELED)', '(ERROR_ARGUMENT)'])
			expect(output).toContain(reason);
		expect(output).toContain(`The emulated portal accepted 3 messages (IDs ${ids.join(', ')})`);
	});

	test('npm run demo:bot plays two conversations with the example bot: answers, a hand-over, a finish', async () => {
		const { code, output } = await timed(
			'2.x: bot demo script',
			async () => await runRepoScript('scripts/demoBot.ts'),
		);
		if (code !== 0) progress(output);
		expect(code).toBe(0);
		expect(output).toContain('customer: where is my order');
		expect(output).toMatch(/bot: {6}\S/);
		expect(output).toContain("-- handed over to the open channel's operators");
		expect(output).toContain('-- dialog finished by the bot');
	});

	test('npm run dev: the scripted owner signs in, finds the workflow, both credentials and the node, and runs the workflow from the editor', async () => {
		const [port, emulatorPort] = [await freePort(), await freePort()];
		const userFolder = scratchFolder('dev-test');
		const dev = await timed(
			'2.x: dev set-up',
			async () =>
				await startDev(
					[
						'--port',
						String(port),
						'--emulator-port',
						String(emulatorPort),
						'--user-folder',
						userFolder,
					],
					progress,
				),
		);
		try {
			const login = await fetch(`${dev.editorUrl}/rest/login`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ emailOrLdapLoginId: DEV_OWNER.email, password: DEV_OWNER.password }),
			});
			expect(login.status).toBe(200);
			const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
			// Seen once in CI: a 200 whose body was not JSON (n8n still starting). Asked again a few times; a body
			// that stays unreadable fails the test with what it was.
			const get = async (path: string) => {
				for (let attempt = 1; ; attempt++) {
					const response = await fetch(`${dev.editorUrl}${path}`, { headers: { cookie } });
					expect(response.status).toBe(200);
					const text = await response.text();
					try {
						return JSON.parse(text) as { data: Array<Record<string, unknown>> } & Array<
							Record<string, unknown>
						>;
					} catch (error) {
						if (attempt === 5) throw new Error(`${path} answered 200 with ${text.slice(0, 200)}`);
						progress(`${path} answered 200 with a body that is not JSON (${String(error)}); again`);
						await new Promise((resolve) => setTimeout(resolve, 1_000));
					}
				}
			};
			const example = loadExample();
			const workflows = (await get('/rest/workflows')).data.map((w) => [w.id, w.name]);
			expect(workflows).toContainEqual([example.id, example.name]);
			const credentials = (await get('/rest/credentials')).data.map((c) => [c.id, c.name, c.type]);
			const webhook = exampleWebhookCredential();
			expect(credentials).toEqual(
				expect.arrayContaining([
					[webhook.id, webhook.name, 'bitrix24WebhookApi'],
					[DEV_OAUTH_CREDENTIAL.id, DEV_OAUTH_CREDENTIAL.name, 'bitrix24OAuth2Api'],
				]),
			);
			const nodeTypes = (await get('/types/nodes.json')).map((n) => n.name);
			expect(nodeTypes).toContain('n8n-nodes-bitrix24-open-channels.bitrix24OpenChannels');

			// "Execute workflow" in the editor: the same call the button makes, run by the n8n server process.
			const started = await fetch(`${dev.editorUrl}/rest/workflows/${example.id}/run`, {
				method: 'POST',
				headers: { cookie, 'content-type': 'application/json' },
				body: JSON.stringify({ triggerToStartFrom: { name: NODES.trigger } }),
			});
			expect(started.status).toBe(200);
			const { executionId } = ((await started.json()) as { data: { executionId: string } }).data;
			const execution = await waitFor('the manual execution', async () => {
				const response = await fetch(`${dev.editorUrl}/rest/executions/${executionId}`, {
					headers: { cookie },
				});
				const { data } = (await response.json()) as { data: { status: string; data: string } };
				return ['success', 'error', 'crashed'].includes(data.status) ? data : undefined;
			});
			expect(execution.status).toBe('success');
			const result = {
				exitCode: 0,
				seconds: 0,
				run: { data: parseExecutionData(dev.session.installed, execution.data) },
			} as ExecutionResult;
			const sent = outputItems(result, NODES.sent);
			const failed = outputItems(result, NODES.failed);
			expect(sent.map((item) => item.messageId)).toEqual(dev.emulator.messages.map((m) => m.id));
			expect(sent).toHaveLength(3);
			expect(failed.map((item) => [item.note, (item.details as { code?: string }).code])).toEqual([
				['the dialog is finished', 'CHAT_NOT_IN_CRM'],
				['the sender is not in the chat', 'CANCELED'],
				['a broken mapping', 'ERROR_ARGUMENT'],
			]);
		} finally {
			await dev.stop();
			removeScratch(userFolder);
		}
	});
});
