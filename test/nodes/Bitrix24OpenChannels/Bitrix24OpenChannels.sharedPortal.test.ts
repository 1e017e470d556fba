/**
 * Several n8n processes on one portal (queue mode's workers): each has its own copy of the budget and they share
 * nothing but the portal. Here each "process" is a credential store of its own, so the node keeps a budget per
 * store in this one process, exactly as it would in separate ones; the portal is the one emulator.
 */
import type { IDataObject } from 'n8n-workflow';

import { addCampaignChats } from '../../../tools/emulator';
import { TestCredentialsHelper } from '../../../tools/harness/credentialsHelper';
import { MAPPED_PARAMETERS, runNode } from '../../../tools/harness/runWorkflow';
import { useEmulator } from '../../../tools/harness/useEmulator';

const emulator = useEmulator();

/** The portal's budget, which each process's credential also states (each believes it has it alone). */
const BUDGET = { burstLimit: 10, requestsPerSecond: 40 };
const PROCESSES = 3;
const MESSAGES = 60;

describe.each([
	['one request per message', { sendInBatches: false }],
	['in batches of 2', { sendInBatches: true, batchSize: 2 }],
])(`%s, from ${PROCESSES} processes at once on one portal`, (_mode, options) => {
	it('every message arrives once and none fails, though each process paces as if alone', async () => {
		emulator.setBudget(BUDGET);
		const chats = addCampaignChats(emulator.world, PROCESSES * MESSAGES);
		const runs = Array.from({ length: PROCESSES }, async (_, process) => {
			const items: IDataObject[] = chats
				.slice(process * MESSAGES, (process + 1) * MESSAGES)
				.map((chat, index) => ({
					type: 'lead',
					entityId: 1195,
					sender: 27,
					chat,
					text: `process ${process}: message ${index}`,
				}));
			return await runNode({
				credential: {
					type: 'bitrix24WebhookApi',
					data: { webhookUrl: emulator.webhookUrl, ...BUDGET },
				},
				credentials: new TestCredentialsHelper(),
				items,
				parameters: { ...MAPPED_PARAMETERS, options },
				onError: 'continueErrorOutput',
			});
		});
		const results = await Promise.all(runs);

		// The processes did get in each other's way: the portal refused some requests, which were sent again.
		expect(emulator.state().rejected503).toBeGreaterThan(0);
		for (const { outputs } of results) {
			expect(outputs[1]).toEqual([]);
			expect(outputs[0]).toHaveLength(MESSAGES);
		}
		const texts = emulator.messages.map((message) => message.message);
		expect(new Set(texts).size).toBe(texts.length);
		expect(texts).toHaveLength(PROCESSES * MESSAGES);
	}, 60_000);
});
