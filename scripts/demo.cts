/**
 * The package's main job on the built-in emulator: load the built package from dist the way n8n loads
 * an installed community package, run a batch of CRM notifications through n8n's real engine
 * (WorkflowExecute -> RoutingNode) against an emulated Bitrix24 portal, and print what was sent and
 * what went to the error output. Run with `npm run demo` (it builds first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { PackageDirectoryLoader } from 'n8n-core';
import type { ICredentialType, IDataObject, INodeType } from 'n8n-workflow';

import { startEmulator } from '../test/emulator/index.cjs';
import { TestCredentialsHelper } from '../test/harness/credentialsHelper';
import { runNode } from '../test/harness/runWorkflow';

/** What a CRM trigger could hand the node: one deal, lead or contact to notify per item. */
const NOTIFICATIONS: IDataObject[] = [
	{ type: 'deal', entityId: 501, sender: 27, chat: 1500, text: 'Your order #501 has shipped. [b]Tracking:[/b] 1Z999AA10123456784' },
	{ type: 'lead', entityId: 1195, sender: 39, chat: 1341, text: 'The manager will call you at 3 pm.' },
	{ type: 'contact', entityId: 77, sender: 27, chat: 1600, text: 'Thank you for your payment!' },
	{ type: 'lead', entityId: 1195, sender: 27, chat: 1342, text: 'This dialog is already finished.' },
	{ type: 'lead', entityId: 1195, sender: 31, chat: 1341, text: 'Maria is not in this chat.' },
	{ type: 'lead', entityId: 'abc', sender: 27, chat: 1341, text: 'A broken mapping.' },
];

function loadedFromDist(loader: PackageDirectoryLoader) {
	const node = loader.nodeTypes.bitrix24OpenChannels?.type as INodeType | undefined;
	const credentialTypes: Record<string, ICredentialType> = {};
	for (const [name, { type }] of Object.entries(loader.credentialTypes)) credentialTypes[name] = type;
	const missing = [
		!node && 'node bitrix24OpenChannels',
		!credentialTypes.bitrix24WebhookApi && 'credential bitrix24WebhookApi',
		!credentialTypes.bitrix24OAuth2Api && 'credential bitrix24OAuth2Api',
		...['dist/icons/bitrix24.svg', 'dist/icons/bitrix24.dark.svg'].filter((icon) => !fs.existsSync(icon)),
	].filter(Boolean);
	if (!node || missing.length > 0) throw new Error(`Failed to load package: missing ${missing.join(', ')}`);
	return { node, credentialTypes };
}

export async function main(): Promise<void> {
	const loader = new PackageDirectoryLoader(path.resolve('.'));
	await loader.loadAll();
	const { node, credentialTypes } = loadedFromDist(loader);
	console.log(
		`Loaded ${loader.packageName} from dist: node "${node.description.displayName}" (${loader.packageName}.${node.description.name}), ` +
			`credentials ${Object.keys(credentialTypes).join(', ')}`,
	);

	const emulator = await startEmulator();
	try {
		console.log(`Emulated Bitrix24 portal: ${emulator.baseUrl} (webhook credential points at it)\n`);
		const { outputs, error } = await runNode({
			nodeType: node,
			credentials: new TestCredentialsHelper(credentialTypes),
			credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emulator.webhookUrl } },
			onError: 'continueErrorOutput',
			items: NOTIFICATIONS,
			parameters: {
				crmEntityType: '={{ $json.type }}',
				crmEntityId: '={{ $json.entityId }}',
				userId: { __rl: true, mode: 'id', value: '={{ $json.sender }}' },
				chatId: { __rl: true, mode: 'id', value: '={{ $json.chat }}' },
				message: '={{ $json.text }}',
			},
		});
		if (error) throw new Error(`The workflow failed: ${error.message}`);
		const [sent = [], failed = []] = outputs;
		const itemOf = (pairedItem: unknown) => (pairedItem as { item: number }).item;

		console.log(`Sent (${sent.length} of ${NOTIFICATIONS.length} items):`);
		for (const { json, pairedItem } of sent) {
			console.log(`  item ${itemOf(pairedItem)}  ${json.crmEntityType} ${json.crmEntityId} -> chat ${json.chatId}  message ID ${json.messageId}`);
		}
		console.log(`\nError output (${failed.length} items, input fields kept):`);
		for (const { json, pairedItem } of failed) {
			console.log(`  item ${itemOf(pairedItem)}  ${json.error}`);
		}
		console.log(`\nThe portal recorded ${emulator.messages.length} messages; ${emulator.requests.length} requests reached it.`);
		if (sent.length + failed.length !== NOTIFICATIONS.length || emulator.messages.length !== sent.length) {
			throw new Error('Items were lost or sent twice');
		}
	} finally {
		await emulator.close();
	}
}
