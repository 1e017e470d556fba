/**
 * The delivery promise, tried as a hostile world would: every message goes out once, or its item says
 * honestly whether it may have been posted (`details.delivery`). Runs through n8n's real engine against
 * the emulator, in both sending modes where both apply.
 */
import { sleep, type IDataObject, type INodeParameters } from 'n8n-workflow';

import {
	addCampaignChats,
	BAD_ANSWERS,
	timesAsked,
	startEmulator,
	WEBHOOK_CODE,
} from '../../../tools/emulator';
import { TestCredentialsHelper } from '../../../tools/harness/credentialsHelper';
import { searchList } from '../../../tools/harness/listSearch';
import { oauthCredential } from '../../../tools/harness/oauthCredential';
import {
	MAPPED_PARAMETERS,
	runNode,
	startNode,
	type RunOptions,
	SENDING_MODES,
	sendMapped,
} from '../../../tools/harness/runWorkflow';
import { useEmulator } from '../../../tools/harness/useEmulator';

const SEND = 'imopenlines.crm.message.add';

/** A message to lead 1195's chat 1341 (or another chat of that lead, refused when it is not). */
const toChat = (chat: number, text: string): IDataObject => ({
	type: 'lead',
	entityId: 1195,
	sender: 27,
	chat,
	text,
});

/** A message to deal 501's chat 1500. */
const toDeal = (text: string): IDataObject => ({
	type: 'deal',
	entityId: 501,
	sender: 27,
	chat: 1500,
	text,
});

const emulator = useEmulator();

const send = (
	items: IDataObject[],
	options: INodeParameters = {},
	extra: Partial<RunOptions> = {},
) => sendMapped(emulator.webhookUrl, items, options, extra);

const posted = () => emulator.messages.map((message) => message.message);

describe.each(SENDING_MODES)('half an emoji in a message, sending %s', (_mode, options) => {
	it('fails only that item, naming the field, sends nothing for it, and the run finishes', async () => {
		// A preview expression such as {{ $json.text.slice(0, 12) }} cut the emoji in two.
		const cut = 'Your order 😀'.slice(0, 12);
		const { outputs, error } = await send(
			[toChat(1341, 'before'), toChat(1341, cut), toChat(1341, 'after')],
			options,
		);

		expect(error).toBeUndefined();
		expect(outputs[0].map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json.details).toMatchObject({
			code: 'ERROR_ARGUMENT',
			argument: 'MESSAGE',
			delivery: 'not_sent',
		});
		expect(outputs[1][0].json.error).toContain('"Message" (MESSAGE) has half of an emoji');
		expect(posted().sort()).toEqual(['after', 'before']);
	});
});

describe.each(SENDING_MODES)(
	'answers that arrive after the portal posted, sending %s',
	(mode, options) => {
		const method = mode === 'in batches' ? 'batch' : SEND;

		it.each(BAD_ANSWERS)(
			'%s: the items say "unknown", are never re-sent, and the hint does not say retry',
			async (answer) => {
				emulator.injectFaults([{ kind: 'badAnswerAfterProcessing', answer }], { method });
				const items = [toChat(1341, 'one'), toDeal('two')];
				const { outputs } = await send(items, options);

				// The portal posted what it was asked, once; nothing was asked twice.
				expect([...timesAsked(emulator.requests).values()].every((times) => times === 1)).toBe(
					true,
				);
				expect(posted().sort()).toEqual(['one', 'two']);
				const failed = outputs[1];
				expect(failed.length).toBeGreaterThanOrEqual(1);
				for (const item of failed) {
					expect(item.json.details).toMatchObject({ delivery: 'unknown' });
					expect(String(item.json.error)).not.toMatch(/retry/i);
				}
				// One request per message: only the first met the bad answer. In a batch, both did.
				expect(failed).toHaveLength(mode === 'in batches' ? 2 : 1);
			},
		);

		it('a dropped connection after posting: "unknown", posted once', async () => {
			emulator.injectFaults([{ kind: 'dropAfterProcessing' }]);
			const { outputs } = await send([toChat(1341, 'maybe')], options);

			expect(outputs[1][0].json.details).toMatchObject({
				code: 'DELIVERY_UNKNOWN',
				delivery: 'unknown',
			});
			expect(timesAsked(emulator.requests).get('maybe')).toBe(1);
			expect(posted()).toEqual(['maybe']);
		});

		it('a lookup that got no answer posted nothing: "not_sent", worded without the message', async () => {
			// The first call is the lookup, alone in either mode.
			emulator.injectFaults([{ kind: 'dropAfterProcessing' }]);
			const { outputs } = await send(
				[{ type: 'lead', entityId: 1195, sender: 27, text: 'hi' }],
				options,
				{
					parameters: { ...MAPPED_PARAMETERS, chatSource: 'activeChat', options },
				},
			);

			expect(outputs[1][0].json.details).toMatchObject({
				code: 'DELIVERY_UNKNOWN',
				method: 'imopenlines.crm.chat.get',
				delivery: 'not_sent',
			});
			expect(outputs[1][0].json.error).toBe(
				'Bitrix24 did not answer imopenlines.crm.chat.get: the connection was closed before Bitrix24 answered (DELIVERY_UNKNOWN)',
			);
			expect(posted()).toEqual([]);
		});
	},
);

describe.each(SENDING_MODES)('429 OPERATION_TIME_LIMIT, sending %s', (mode, options) => {
	it('waits for the reset the portal reported for the method and sends again, alone or inside a batch', async () => {
		// The same credential across runs, as in n8n: its budget remembers the reset a success reported.
		const credentials = new TestCredentialsHelper();
		const resetAt = Math.ceil(Date.now() / 1000) + 2;
		const blocked = { kind: 'operationTimeLimit' as const, resetAt };
		// The method is blocked: alone, the next call is refused; in a batch, both of its commands are.
		emulator.injectFaults(
			mode === 'in batches' ? [blocked, blocked] : [{ kind: 'delay', ms: 0 }, blocked],
			{
				method: SEND,
				insideBatch: mode === 'in batches',
			},
		);
		await send([toChat(1341, 'reports the reset')], options, { credentials });
		const { outputs } = await send([toChat(1341, 'one'), toChat(1341, 'two')], options, {
			credentials,
		});

		expect(outputs[1]).toEqual([]);
		expect(posted()).toEqual(['reports the reset', 'one', 'two']);
		const lastPosted = emulator.requests.filter((request) => request.status === 200).at(-1);
		expect(lastPosted?.at).toBeGreaterThanOrEqual(resetAt * 1000);
	}, 30_000);
});

describe.each(SENDING_MODES)("n8n's Retry On Fail, sending %s", (_mode, options) => {
	const retrying = { retryOnFail: true, maxTries: 3, waitBetweenTries: 0 };
	// Three messages Bitrix24 takes and one it refuses (chat 1400 is not the lead's).
	const items = [
		toChat(1341, 'one'),
		toChat(1400, 'refused'),
		toChat(1341, 'two'),
		toChat(1341, 'three'),
	];

	it('Stop Workflow: n8n runs the node three times, yet every good message is posted once', async () => {
		const { error } = await send(items, options, { onError: 'stopWorkflow', settings: retrying });

		expect(error?.message).toContain('CHAT_NOT_IN_CRM');
		expect(posted().sort()).toEqual(['one', 'three', 'two']);
		expect(timesAsked(emulator.requests).get('one')).toBe(1);
		// The refused message was not posted, so each try may ask again.
		expect(timesAsked(emulator.requests).get('refused')).toBe(3);
	});

	it('Continue (using error output): n8n re-runs the node when the first item failed; nothing is posted twice', async () => {
		const refusedFirst = [items[1], items[0], items[2], items[3]];
		const { outputs } = await send(refusedFirst, options, { settings: retrying });

		expect(outputs[0].map((item) => item.pairedItem)).toEqual([
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
		expect(outputs[1]).toHaveLength(1);
		expect(posted().sort()).toEqual(['one', 'three', 'two']);
		expect(timesAsked(emulator.requests).get('refused')).toBeGreaterThan(1);
		expect(timesAsked(emulator.requests).get('one')).toBe(1);
		// Every try returned the same message IDs.
		expect(new Set(outputs[0].map((item) => item.json.messageId)).size).toBe(3);
	});

	it('a message whose delivery is unknown is not re-sent by a retry', async () => {
		emulator.injectFaults([{ kind: 'dropAfterProcessing' }]);
		const { error } = await send([toChat(1341, 'maybe')], options, {
			onError: 'stopWorkflow',
			settings: retrying,
		});

		expect(error?.message).toContain('DELIVERY_UNKNOWN');
		expect(timesAsked(emulator.requests).get('maybe')).toBe(1);
		expect(posted()).toEqual(['maybe']);
	});
});

describe.each(SENDING_MODES)('Cancel and the workflow timeout, sending %s', (mode, options) => {
	it('stop the sending: no message leaves after the cancel, and the run lets go of the budget', async () => {
		// 20 requests per second: 400 messages one by one would take 20 s, 8 batches 0.5 s each at burst 1.
		const budget =
			mode === 'in batches'
				? { burstLimit: 2, requestsPerSecond: 2 }
				: { burstLimit: 5, requestsPerSecond: 20 };
		emulator.setBudget(budget);
		const credentials = new TestCredentialsHelper();
		const webhook = {
			type: 'bitrix24WebhookApi' as const,
			data: { webhookUrl: emulator.webhookUrl, ...budget },
		};
		const items = Array.from({ length: 400 }, (_, index) => toChat(1341, `bulk ${index}`));
		const bulk = startNode({
			credential: webhook,
			credentials,
			items,
			parameters: { ...MAPPED_PARAMETERS, options },
		});
		await waitFor(() => emulator.messages.length >= (mode === 'in batches' ? 50 : 10));

		bulk.cancel();
		const atCancel = emulator.messages.length;
		// A request already on the wire may still land; nothing is sent after it.
		await sleep(1500);
		const settled = emulator.messages.length;
		await sleep(1500);

		expect(emulator.messages.length).toBe(settled);
		expect(settled - atCancel).toBeLessThanOrEqual(mode === 'in batches' ? 50 : 1);
		expect(settled).toBeLessThan(400);
		await bulk.finished;

		// A one-item execution on the same credential is not queued behind the cancelled run's 400.
		const { outputs } = await runNode({
			credential: webhook,
			credentials,
			items: [toChat(1341, 'after cancel')],
			parameters: MAPPED_PARAMETERS,
		});
		expect(outputs[0]).toHaveLength(1);
		expect(posted().at(-1)).toBe('after cancel');
		expect(emulator.messages).toHaveLength(settled + 1);
	}, 30_000);
});

describe('fairness on one credential', () => {
	it('a one-item execution gets its message out while a 200-item one is sending, not after it', async () => {
		const budget = { burstLimit: 5, requestsPerSecond: 20 };
		emulator.setBudget(budget);
		const credentials = new TestCredentialsHelper();
		const webhook = {
			type: 'bitrix24WebhookApi' as const,
			data: { webhookUrl: emulator.webhookUrl, ...budget },
		};
		// A campaign: one chat per customer, so all 200 requests wait for the budget at once.
		const items = addCampaignChats(emulator.world, 200).map((chat, index) =>
			toChat(chat, `bulk ${index}`),
		);
		const bulk = startNode({
			credential: webhook,
			credentials,
			items,
			parameters: { ...MAPPED_PARAMETERS, options: { sendInBatches: false } },
		});
		await waitFor(() => emulator.messages.length >= 10);

		const bulkAtStart = emulator.messages.length;
		await runNode({
			credential: webhook,
			credentials,
			items: [toDeal('urgent')],
			parameters: MAPPED_PARAMETERS,
		});
		const bulkBefore = posted().indexOf('urgent');
		await bulk.finished;

		// It took the next turn: a few bulk messages went while n8n started it (at 20 per second); behind the
		// run it would have waited for the 150 or more still queued.
		expect(bulkBefore - bulkAtStart).toBeLessThan(40);
		expect(200 - bulkBefore).toBeGreaterThan(100);
		expect(emulator.messages).toHaveLength(201);
	}, 60_000);
});

describe.each(SENDING_MODES)('order of messages to one chat, sending %s', (_mode, options) => {
	it('30 parts of a long text arrive in input order over a jittery link', async () => {
		emulator.setJitter(40, 7);
		const parts = Array.from({ length: 30 }, (_, index) => `part ${index + 1}`);
		const { outputs } = await send(
			parts.map((text) => toChat(1341, text)),
			{ ...options, batchSize: 3 },
		);

		expect(outputs[1]).toEqual([]);
		expect(posted()).toEqual(parts);
	}, 30_000);

	it('messages to different chats still go side by side', async () => {
		const items = [toChat(1341, 'a1'), toDeal('b1'), toChat(1341, 'a2')];
		const { outputs } = await send(items, options);

		expect(outputs[1]).toEqual([]);
		expect(posted().filter((text) => text.startsWith('a'))).toEqual(['a1', 'a2']);
	});
});

describe("n8n's Request Options > Batching", () => {
	it.each(SENDING_MODES)(
		'with items started in groups of 2 every 50 ms, every message goes once and in order, %s',
		async (_mode, options) => {
			const parts = Array.from({ length: 7 }, (_, index) => `part ${index + 1}`);
			const { outputs } = await send(
				parts.map((text) => toChat(1341, text)),
				options,
				{
					parameters: {
						...MAPPED_PARAMETERS,
						options,
						requestOptions: { batching: { batch: { batchSize: 2, batchInterval: 50 } } },
					},
				},
			);

			expect(outputs[1]).toEqual([]);
			expect(outputs[0].map((item) => item.pairedItem)).toEqual(parts.map((_, item) => ({ item })));
			expect(posted()).toEqual(parts);
		},
	);
});

describe('secrets echoed by an answer', () => {
	const echo = `Wrong request to ${'/rest/1/'}${WEBHOOK_CODE}/imopenlines.crm.message.add.json?auth=${WEBHOOK_CODE}`;

	it.each(SENDING_MODES)(
		'are masked in the item, its error and details, %s',
		async (_mode, options) => {
			emulator.injectFaults([
				{ kind: 'status', status: 400, error: 'ERROR_CORE', errorDescription: echo },
			]);
			const { outputs } = await send([toChat(1341, 'hi')], options);

			expect(outputs[1][0].json.details).toMatchObject({ code: 'ERROR_CORE' });
			expect(JSON.stringify(outputs)).not.toContain(WEBHOOK_CODE);
		},
	);

	it('are masked in a pick-list error the editor shows', async () => {
		emulator.injectFaults([
			{ kind: 'status', status: 400, error: 'ERROR_CORE', errorDescription: echo },
		]);
		const thrown = await searchList('getSenders', {
			parameters: {},
			credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: emulator.webhookUrl } },
		}).catch((error: unknown) => error as Error);

		expect(thrown).toBeInstanceOf(Error);
		expect(
			JSON.stringify({ message: (thrown as Error).message, ...(thrown as object) }),
		).not.toContain(WEBHOOK_CODE);
	});
});

describe('OAuth2 over plain http', () => {
	it('is refused for a public portal host, before the token travels', async () => {
		const tokens = emulator.issueOAuthTokens();
		const { outputs } = await runNode({
			credential: oauthCredential(emulator, tokens, 'http://yourcompany.bitrix24.com'),
			items: [toChat(1341, 'hi')],
			parameters: MAPPED_PARAMETERS,
			onError: 'continueErrorOutput',
		});

		expect(outputs[1][0].json.details).toMatchObject({
			code: 'INVALID_PORTAL_URL',
			delivery: 'not_sent',
		});
		expect(outputs[1][0].json.error).toContain(
			'http:// for the public host yourcompany.bitrix24.com',
		);
		expect(emulator.requests).toHaveLength(0);
	});
});

describe('TLS', () => {
	// `npm test` trusts the emulator's test authority (NODE_EXTRA_CA_CERTS), as an on-premise install would its own.
	it.each([
		['self-signed', 'selfSigned', "the portal's certificate is self-signed"],
		[
			'from an unknown authority',
			'unknownCa',
			"the portal's certificate comes from an unknown authority",
		],
		['for another host name', 'wrongHost', "the portal's certificate is for another host name"],
	] as const)(
		'a certificate %s: CONNECTION_FAILED, not sent, with the on-premise hint',
		async (_label, tls, reason) => {
			const portal = await startEmulator({ tls });
			try {
				const { error } = await runNode({
					credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: portal.webhookUrl } },
					items: [toChat(1341, 'hi')],
					parameters: MAPPED_PARAMETERS,
					onError: 'stopWorkflow',
				});

				expect(error?.message).toBe(
					`Could not reach Bitrix24: the TLS connection was refused: ${reason} (CONNECTION_FAILED)`,
				);
				expect(error?.description).toContain('NODE_EXTRA_CA_CERTS');
				expect(error?.description).toContain('Nothing was posted');
				expect(portal.messages).toHaveLength(0);
			} finally {
				await portal.close();
			}
		},
		30_000,
	);

	it('a certificate the machine trusts: sent over https', async () => {
		const portal = await startEmulator({ tls: 'valid' });
		try {
			const { outputs } = await runNode({
				credential: { type: 'bitrix24WebhookApi', data: { webhookUrl: portal.webhookUrl } },
				items: [toChat(1341, 'over https')],
				parameters: MAPPED_PARAMETERS,
			});

			expect(outputs[0][0].json.messageId).toEqual(expect.any(Number));
			expect(portal.messages.map((message) => message.message)).toEqual(['over https']);
		} finally {
			await portal.close();
		}
	});
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
	const started = Date.now();
	while (!condition()) {
		if (Date.now() - started > timeoutMs) throw new Error('Timed out waiting for the condition');
		await sleep(10);
	}
}
