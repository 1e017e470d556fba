/** Adding the Bot Dialog resource changes nothing for workflows saved with Send Message. */
import type { INodeParameters } from 'n8n-workflow';

import { Bitrix24OpenChannels } from '../../../../nodes/Bitrix24OpenChannels/Bitrix24OpenChannels.node';
import { MAPPED_PARAMETERS, runNode } from '../../../../tools/harness/runWorkflow';
import { useEmulator } from '../../../../tools/harness/useEmulator';

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
