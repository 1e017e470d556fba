/**
 * `npm run demo`: the package's main job in a real n8n, on a fresh machine, with no Bitrix24 account.
 * Installs n8n into the cache on first use (with progress), starts the Bitrix24 portal emulator, imports the
 * example workflow (examples/crm-notifications.workflow.json) and a webhook credential pointing at the
 * emulator into a fresh n8n user folder, runs the workflow with `n8n execute`, and prints what was sent and
 * what came out on the error output. Exits non-zero if anything does not add up.
 *
 *   npx tsx scripts/demo.ts [--n8n 2.x|1.x] [--keep]
 */
import { startEmulator } from '../tools/emulator';
import { ensureN8n } from '../tools/n8n/install';
import { LINES, parseLines } from '../tools/n8n/lines';
import { N8nSession, outputItems, PACKAGE_NAME, type JsonObject } from '../tools/n8n/runner';
import {
	NODES,
	exampleWebhookCredential,
	loadExample,
	webhookCredential,
} from '../tools/n8n/workflows';
import { runWhenStarted } from '../tools/runWhenStarted';

interface DemoOptions {
	line: '2.x' | '1.x';
	keep: boolean;
}

function parseArgs(argv: readonly string[]): DemoOptions {
	const options: DemoOptions = { line: '2.x', keep: false };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (arg === '--keep') options.keep = true;
		else if (arg === '--n8n') options.line = parseLines(argv[++i])[0] ?? '2.x';
		else if (arg?.startsWith('--n8n='))
			options.line = parseLines(arg.slice('--n8n='.length))[0] ?? '2.x';
		else throw new Error(`Unknown argument ${arg} (use --n8n 2.x|1.x, --keep)`);
	}
	return options;
}

const describeTarget = (json: JsonObject): string =>
	`${String(json.entityType ?? json.crmEntityType)} ${String(json.entityId ?? json.crmEntityId)} -> chat ${String(json.chatId)} (sender ${String(json.senderId ?? json.userId)})`;

export async function main(argv: readonly string[] = []): Promise<void> {
	const started = Date.now();
	const options = parseArgs(argv);
	const line = LINES[options.line];
	console.log(
		`Bitrix24 Open Channels demo: the example workflow in a real n8n ${line.n8nVersion}, against an emulated Bitrix24 portal\n`,
	);

	const installed = await ensureN8n(options.line, (text) => console.log(text));
	console.log(`n8n ${line.n8nVersion} on Node ${installed.node.version} (${installed.folder})`);

	const emulator = await startEmulator();
	let session: N8nSession | undefined;
	let ok = false;
	try {
		console.log(`Emulated Bitrix24 portal: ${emulator.baseUrl}`);
		session = await N8nSession.open(installed, { name: 'demo', log: (text) => console.log(text) });
		console.log(
			`n8n user folder: ${session.userFolder} (package ${PACKAGE_NAME} installed from npm pack)`,
		);
		const example = loadExample();
		await session.importCredentials([
			webhookCredential(exampleWebhookCredential(), emulator.webhookUrl),
		]);
		await session.importWorkflows([example]);
		const result = await session.execute(example.id);
		if (result.exitCode !== 0) {
			const error = result.run.data.resultData.error;
			throw new Error(
				`The workflow failed: ${error?.message ?? 'no message'}${error?.description ? `\n${error.description}` : ''}`,
			);
		}

		const inputs = outputItems(result, NODES.items);
		const sent = outputItems(result, NODES.sent);
		const failed = outputItems(result, NODES.failed);
		console.log(
			`\nWorkflow "${example.name}": ${inputs.length} notifications in, run in ${result.seconds.toFixed(1)} s\n`,
		);
		console.log(`Sent (${sent.length}), on the node's main output -> "${NODES.sent}":`);
		for (const json of sent)
			console.log(`  ${describeTarget(json)}: message ID ${String(json.messageId)}`);
		console.log(
			`\nNot sent (${failed.length}), on the node's error output -> "${NODES.failed}", input fields kept:`,
		);
		for (const json of failed) {
			const details = (json.details ?? {}) as JsonObject;
			console.log(
				`  [${String(json.note ?? '')}] ${describeTarget(json)}\n    ${String(json.error)}  (details.code ${String(details.code)})`,
			);
		}
		const recorded = emulator.messages;
		console.log(
			`\nThe emulated portal accepted ${recorded.length} messages (IDs ${recorded.map((m) => m.id).join(', ') || 'none'}); ` +
				`${emulator.requests.length} REST request(s) reached it.`,
		);

		const problems: string[] = [];
		if (sent.length + failed.length !== inputs.length)
			problems.push(`${inputs.length} items went in, ${sent.length + failed.length} came out`);
		const sentIds = sent.map((json) => json.messageId).sort();
		const recordedIds = recorded.map((message) => message.id).sort();
		if (JSON.stringify(sentIds) !== JSON.stringify(recordedIds))
			problems.push(
				`sent IDs ${sentIds.join(',')} differ from the portal's ${recordedIds.join(',')}`,
			);
		if (sent.some((json) => typeof json.messageId !== 'number'))
			problems.push('an item on the main output has no message ID');
		if (problems.length > 0)
			throw new Error(`The demo's result does not add up: ${problems.join('; ')}`);
		ok = true;
		console.log(
			`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Open the same workflow in the n8n editor: npm run dev`,
		);
	} finally {
		await emulator.close();
		if (session) {
			if (ok && !options.keep) session.remove();
			else console.log(`n8n user folder kept: ${session.userFolder}`);
		}
	}
}

runWhenStarted(module, main);
