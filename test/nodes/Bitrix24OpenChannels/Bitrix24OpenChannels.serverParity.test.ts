/**
 * The node against a portal that answers as Bitrix24's own server code does (the emulator follows
 * yuliai/bitrix-modules, see test/emulator/README.md): each behaviour found there, and the verdict, sentence and
 * hint the node gives for it. Runs through n8n's real engine.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { batchCommand } from '../../../nodes/shared/batching';
import { startEmulator, type Emulator } from '../../emulator/index.cjs';
import { postJson } from '../../emulator/testClient.cjs';
import { MAPPED_PARAMETERS, runNode, type RunOptions } from '../../harness/runWorkflow';

const SEND = 'imopenlines.crm.message.add';

/** A message from Oleg (27) to lead 1195's chat in progress, 1341. */
const toChat1341 = (text: string): IDataObject => ({ type: 'lead', entityId: 1195, sender: 27, chat: 1341, text });

/** Both ways the node can send: the results must not depend on it. */
const MODES: Array<[string, INodeParameters]> = [
	['one request per message', { sendInBatches: false }],
	['in batches', {}],
];

let emulator: Emulator;

beforeAll(async () => {
	emulator = await startEmulator();
});

afterAll(async () => {
	await emulator.close();
});

beforeEach(() => emulator.reset());

function send(items: IDataObject[], options: INodeParameters = {}, extra: Partial<RunOptions> = {}) {
	return runNode({
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emulator.webhookUrl } },
		items,
		parameters: { ...MAPPED_PARAMETERS, options },
		onError: 'continueErrorOutput',
		...extra,
	});
}

const posted = () => emulator.messages.map((message) => message.message);

describe('text that looks like a batch reference ($result[...])', () => {
	// A developer's note quoting PHP: inside a batch Bitrix24 would replace `$result[item0_1]` with the first
	// message's ID (the node names its commands item<index>_<n>), and `$time[item0_1][start]` with a time.
	const quoting = 'Debug: $result[item0_1] came back at $time[item0_1][start]';
	const items = [toChat1341('Hello'), toChat1341('World'), toChat1341(quoting)];

	it.each(MODES)('arrives byte for byte, sending %s; batched, that message goes as its own call after the batch of the others', async (mode, options) => {
		const { outputs } = await send(items, options);

		expect(outputs[1]).toEqual([]);
		expect(posted()).toEqual(['Hello', 'World', quoting]);
		const calls = emulator.requests.map((request) => request.restMethod);
		expect(calls).toEqual(mode === 'in batches' ? ['batch', SEND] : [SEND, SEND, SEND]);
		expect(emulator.requests.at(-1)?.params.MESSAGE).toBe(quoting);
	});

	it('would have been altered in the batch the node did not send', async () => {
		const cmd = Object.fromEntries(
			items.map((item, index) => [
				`item${index}_${index + 1}`,
				batchCommand(SEND, { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: 1195, USER_ID: 27, CHAT_ID: 1341, MESSAGE: String(item.text) }),
			]),
		);
		await postJson(`${emulator.webhookUrl}batch`, { halt: 0, cmd });

		expect(posted()[2]).toMatch(new RegExp(`^Debug: ${emulator.messages[0].id} came back at \\d+(\\.\\d+)?$`));
	});
});
