/** Adding the Bot Dialog resource changes nothing for workflows saved with Send Message. */
import type { INodeParameters } from 'n8n-workflow';

import { Bitrix24OpenChannels } from '../../../../nodes/Bitrix24OpenChannels/Bitrix24OpenChannels.node';
import { MAPPED_PARAMETERS, runNode } from '../../../../tools/harness/runWorkflow';
import { useEmulator } from '../../../../tools/harness/useEmulator';
import { BOT_DIALOGS, BOTS, dialogOf } from '../../../../tools/emulator';
import { REPLY, runBot } from './botRun';

const emulator = useEmulator();
const { description } = new Bitrix24OpenChannels();

describe('workflows saved before the Bot Dialog resource', () => {
	it('CRM Chat stays the default resource, Send Message its default operation', () => {
		const resource = description.properties.find((p) => p.name === 'resource');
		const crmOperation = description.properties.find(
			(p) => p.name === 'operation' && p.displayOptions?.show?.resource?.includes('crmChat'),
		);
		expect(resource?.default).toBe('crmChat');
		expect(crmOperation?.default).toBe('sendMessage');
		expect(description.usableAsTool).toBe(true);
	});

	it('a node saved without resource and operation (n8n leaves defaults out) still sends the message', async () => {
		// n8n stores only parameters that differ from their defaults: these two are absent from such a node.
		const saved = { ...MAPPED_PARAMETERS, resource: undefined, operation: undefined };
		const { outputs, error } = await runNode({
			credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emulator.webhookUrl } },
			items: [{ type: 'lead', entityId: 1195, sender: 27, chat: 1341, text: 'Still works' }],
			parameters: saved as unknown as INodeParameters,
		});

		expect(error).toBeUndefined();
		expect(outputs[0][0].json).toMatchObject({ chatId: 1341, crmEntityType: 'lead' });
		expect(emulator.messages.map((m) => m.message)).toEqual(['Still works']);
	});
});

describe('Bot Dialog workflows saved before the Chat field became a pick-list', () => {
	it.each([
		['a plain fixed ID', '2001'],
		['a plain dialog ID', 'chat2001'],
		['a plain expression', '={{ $json.chatId }}'],
		['By ID', { __rl: true, mode: 'id', value: 'chat2001' }],
		['By ID, an expression', { __rl: true, mode: 'id', value: '={{ $json.chatId }}' }],
		[
			'From List',
			{ __rl: true, mode: 'list', value: '2001', cachedResultName: 'Live chat - Guest' },
		],
	])('%s still reaches the chat', async (_case, dialogChatId) => {
		const { outputs } = await runBot(
			emulator,
			'sendMessage',
			{ ...REPLY, dialogChatId } as unknown as INodeParameters,
			[{ chatId: BOT_DIALOGS.WITH_BOT, text: 'Still here' }],
		);

		expect(outputs[0][0].json).toMatchObject({
			chatId: BOT_DIALOGS.WITH_BOT,
			dialogId: 'chat2001',
		});
		const posted = dialogOf(emulator.world, BOT_DIALOGS.WITH_BOT)?.messages.at(-1);
		expect(posted).toMatchObject({ authorId: BOTS.SUPPORT_BOT, text: 'Still here' });
	});
});
