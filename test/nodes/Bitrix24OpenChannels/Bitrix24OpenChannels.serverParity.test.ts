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

describe('failures after a CANCELED in the same batch (Bitrix24 reports them all as CANCELED)', () => {
	const items = [
		// Maria (31) is not in chat 1341: CANCELED, which then leaks into every later failure of the batch.
		{ type: 'lead', entityId: 1195, sender: 31, chat: 1341, text: 'from Maria' },
		// Chat 1400 is lead 1196's.
		{ type: 'lead', entityId: 1195, sender: 27, chat: 1400, text: 'to the wrong chat' },
		toChat1341('delivered'),
		// Maria may not read deal 501.
		{ type: 'deal', entityId: 501, sender: 31, chat: 1500, text: 'to a deal Maria cannot see' },
	];

	it('each ends with its own code and sentence: the batch is sent once, the suspects again alone', async () => {
		const { outputs } = await send(items);

		expect(outputs[0].map((item) => item.pairedItem)).toEqual([{ item: 2 }]);
		expect(outputs[1].map((item) => [item.json.error, item.json.details])).toEqual([
			[
				'Bitrix24 refused the message: the sender 31 cannot send messages to the chat 1341 (CANCELED)',
				{ code: 'CANCELED', description: 'You cannot send messages to the specified chat', httpStatus: 400, method: SEND, delivery: 'not_sent' },
			],
			[
				'Bitrix24 refused the message: the chat 1400 is not linked to lead 1195 or its dialog is not in progress (CHAT_NOT_IN_CRM)',
				{ code: 'CHAT_NOT_IN_CRM', description: 'Chat does not belong to the CRM entity being checked', httpStatus: 400, method: SEND, delivery: 'not_sent' },
			],
			[
				'Bitrix24 denied access to deal 501 (ACCESS_DENIED)',
				{ code: 'ACCESS_DENIED', description: 'Access denied! User dont have access to this entity', httpStatus: 403, method: SEND, delivery: 'not_sent' },
			],
		]);
		// The batch, then the two failures after the CANCELED, each alone; the success was not asked again.
		expect(emulator.requests.map((request) => [request.restMethod, request.params.CHAT_ID])).toEqual([
			['batch', undefined],
			[SEND, 1400],
			[SEND, 1500],
		]);
		expect(posted()).toEqual(['delivered']);
	});

	it('the same as one request per message', async () => {
		const batched = await send(items);
		emulator.reset();
		const alone = await send(items, { sendInBatches: false });

		expect(batched.outputs).toEqual(alone.outputs);
	});
});

describe.each(MODES)('a message of just "0", sending %s', (_mode, options) => {
	const refusal = 'The field "Message" (MESSAGE) is "0": Bitrix24 treats the text "0" as empty and refuses it; send a longer text';

	it('fails that item with ERROR_ARGUMENT before anything is sent (Bitrix24 would call it empty); the others go out', async () => {
		const { outputs } = await send([toChat1341('0'), { ...toChat1341(''), text: 0 }, toChat1341('0 items left')], options);

		expect(outputs[1].map((item) => [item.json.error, item.json.details])).toEqual(
			[0, 1].map(() => [
				`${refusal} (ERROR_ARGUMENT)`,
				{ code: 'ERROR_ARGUMENT', description: refusal, httpStatus: null, argument: 'MESSAGE', delivery: 'not_sent' },
			]),
		);
		expect(posted()).toEqual(['0 items left']);
	});

	it('says how to fix it when the run stops', async () => {
		const { error } = await send([toChat1341('0')], options, { onError: 'stopWorkflow' });

		expect(error?.message).toBe(`${refusal} (ERROR_ARGUMENT)`);
		expect(error?.description).toContain('the message not empty (nor just "0")');
		expect(error?.description).toContain('Nothing was posted');
		expect(emulator.requests).toEqual([]);
	});
});

describe.each(MODES)("Send To the CRM entity's active chat, sending %s", (_mode, options) => {
	const toActiveChat = (items: IDataObject[]) =>
		send(items, options, {
			parameters: { ...MAPPED_PARAMETERS, chatSource: 'activeChat', chatId: { __rl: true, mode: 'id', value: '' }, options },
		});

	it('takes the chat whose dialog was active last, as Bitrix24 lists them, not the highest chat ID', async () => {
		const telegram = emulator.world.chats.find((chat) => chat.id === 1341)!;
		// A newer chat (a higher ID) whose customer wrote an hour before the Telegram dialog's last message.
		emulator.world.chats.push({ ...telegram, id: 1390, connectorId: 'livechat', connectorTitle: 'Live Chat', members: [...telegram.members], lastActivityAt: telegram.lastActivityAt - 3_600_000 });
		const { outputs } = await toActiveChat([{ type: 'lead', entityId: 1195, sender: 27, text: 'to the live dialog' }]);

		expect(outputs[0].map((item) => item.json.chatId)).toEqual([1341]);
		expect(emulator.messages.map((message) => [message.chatId, message.message])).toEqual([[1341, 'to the live dialog']]);
	});

	it('follows the activity: once the newer chat is the livelier, it gets the message', async () => {
		const telegram = emulator.world.chats.find((chat) => chat.id === 1341)!;
		emulator.world.chats.push({ ...telegram, id: 1390, members: [...telegram.members], lastActivityAt: telegram.lastActivityAt + 60_000 });
		telegram.lastActivityAt -= 3_600_000;
		const { outputs } = await toActiveChat([{ type: 'lead', entityId: 1195, sender: 27, text: 'hi' }]);

		expect(outputs[0].map((item) => item.json.chatId)).toEqual([1390]);
	});
});
