/**
 * The node against a portal that answers as Bitrix24's own server code does (the emulator follows
 * yuliai/bitrix-modules, see tools/emulator/README.md): each behaviour found there, and the verdict, sentence and
 * hint the node gives for it. Runs through n8n's real engine.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { batchFormOf, type BatchForm } from '../../../nodes/shared/batching';
import { USERS, WEBHOOK_CODE } from '../../../tools/emulator';
import { postJson } from '../../../tools/emulator/testClient';
import { TestCredentialsHelper } from '../../../tools/harness/credentialsHelper';
import { oauthCredential } from '../../../tools/harness/oauthCredential';
import {
	MAPPED_PARAMETERS,
	runNode,
	type RunOptions,
	SENDING_MODES,
	sendMapped,
} from '../../../tools/harness/runWorkflow';
import { useEmulator } from '../../../tools/harness/useEmulator';

const SEND = 'imopenlines.crm.message.add';

/** A message from Oleg (27) to lead 1195's chat in progress, 1341. */
const toChat1341 = (text: string): IDataObject => ({
	type: 'lead',
	entityId: 1195,
	sender: 27,
	chat: 1341,
	text,
});

const emulator = useEmulator();

const send = (
	items: IDataObject[],
	options: INodeParameters = {},
	extra: Partial<RunOptions> = {},
) => sendMapped(emulator.webhookUrl, items, options, extra);

const posted = () => emulator.messages.map((message) => message.message);

describe('text that looks like a batch reference ($result[...])', () => {
	// A developer's note quoting PHP: inside a batch Bitrix24 would replace `$result[item0_1]` with the first
	// message's ID (the node names its commands item<index>_<n>), and `$time[item0_1][start]` with a time.
	const quoting = 'Debug: $result[item0_1] came back at $time[item0_1][start]';
	const items = [toChat1341('Hello'), toChat1341('World'), toChat1341(quoting)];

	it.each(SENDING_MODES)(
		'arrives byte for byte, sending %s; batched, that message goes as its own call after the batch of the others',
		async (mode, options) => {
			const { outputs } = await send(items, options);

			expect(outputs[1]).toEqual([]);
			expect(posted()).toEqual(['Hello', 'World', quoting]);
			const calls = emulator.requests.map((request) => request.restMethod);
			expect(calls).toEqual(mode === 'in batches' ? ['batch', SEND] : [SEND, SEND, SEND]);
			expect(emulator.requests.at(-1)?.params.MESSAGE).toBe(quoting);
		},
	);

	it('would have been altered in the batch the node did not send', async () => {
		const cmd = Object.fromEntries(
			items.map((item, index) => [
				`item${index}_${index + 1}`,
				(
					batchFormOf(SEND, {
						CRM_ENTITY_TYPE: 'lead',
						CRM_ENTITY: 1195,
						USER_ID: 27,
						CHAT_ID: 1341,
						MESSAGE: String(item.text),
					}) as BatchForm
				).command,
			]),
		);
		await postJson(`${emulator.webhookUrl}batch`, { halt: 0, cmd });

		expect(posted()[2]).toMatch(
			new RegExp(`^Debug: ${emulator.messages[0].id} came back at \\d+(\\.\\d+)?$`),
		);
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
				{
					code: 'CANCELED',
					description: 'You cannot send messages to the specified chat',
					httpStatus: 400,
					method: SEND,
					delivery: 'not_sent',
				},
			],
			[
				'Bitrix24 refused the message: the chat 1400 is not linked to lead 1195 or its dialog is not in progress (CHAT_NOT_IN_CRM)',
				{
					code: 'CHAT_NOT_IN_CRM',
					description: 'Chat does not belong to the CRM entity being checked',
					httpStatus: 400,
					method: SEND,
					delivery: 'not_sent',
				},
			],
			[
				'Bitrix24 denied access to deal 501 (ACCESS_DENIED)',
				{
					code: 'ACCESS_DENIED',
					description: 'Access denied! User dont have access to this entity',
					httpStatus: 403,
					method: SEND,
					delivery: 'not_sent',
				},
			],
		]);
		// The batch, then the two failures after the CANCELED, each alone; the success was not asked again.
		expect(
			emulator.requests.map((request) => [request.restMethod, request.params.CHAT_ID]),
		).toEqual([
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

describe.each(SENDING_MODES)('a message of just "0", sending %s', (_mode, options) => {
	const refusal =
		'The field "Message" (MESSAGE) is "0": Bitrix24 treats the text "0" as empty and refuses it; send a longer text';

	it('fails that item with ERROR_ARGUMENT before anything is sent (Bitrix24 would call it empty); the others go out', async () => {
		const { outputs } = await send(
			[toChat1341('0'), { ...toChat1341(''), text: 0 }, toChat1341('0 items left')],
			options,
		);

		expect(outputs[1].map((item) => [item.json.error, item.json.details])).toEqual(
			[0, 1].map(() => [
				`${refusal} (ERROR_ARGUMENT)`,
				{
					code: 'ERROR_ARGUMENT',
					description: refusal,
					httpStatus: null,
					argument: 'MESSAGE',
					delivery: 'not_sent',
				},
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

describe.each(SENDING_MODES)(
	"Send To the CRM entity's active chat, sending %s",
	(_mode, options) => {
		const toActiveChat = (items: IDataObject[]) =>
			send(items, options, {
				parameters: {
					...MAPPED_PARAMETERS,
					chatSource: 'activeChat',
					chatId: { __rl: true, mode: 'id', value: '' },
					options,
				},
			});

		it('takes the chat whose dialog was active last, as Bitrix24 lists them, not the highest chat ID', async () => {
			const telegram = emulator.world.chats.find((chat) => chat.id === 1341)!;
			// A newer chat (a higher ID) whose customer wrote an hour before the Telegram dialog's last message.
			emulator.world.chats.push({
				...telegram,
				id: 1390,
				connectorId: 'livechat',
				connectorTitle: 'Live Chat',
				members: [...telegram.members],
				lastActivityAt: telegram.lastActivityAt - 3_600_000,
			});
			const { outputs } = await toActiveChat([
				{ type: 'lead', entityId: 1195, sender: 27, text: 'to the live dialog' },
			]);

			expect(outputs[0].map((item) => item.json.chatId)).toEqual([1341]);
			expect(emulator.messages.map((message) => [message.chatId, message.message])).toEqual([
				[1341, 'to the live dialog'],
			]);
		});

		it('follows the activity: once the newer chat is the livelier, it gets the message', async () => {
			const telegram = emulator.world.chats.find((chat) => chat.id === 1341)!;
			emulator.world.chats.push({
				...telegram,
				id: 1390,
				members: [...telegram.members],
				lastActivityAt: telegram.lastActivityAt + 60_000,
			});
			telegram.lastActivityAt -= 3_600_000;
			const { outputs } = await toActiveChat([
				{ type: 'lead', entityId: 1195, sender: 27, text: 'hi' },
			]);

			expect(outputs[0].map((item) => item.json.chatId)).toEqual([1390]);
		});
	},
);

describe('refusals of the credential or the portal (every one 401 from the auth layer, except a closed portal)', () => {
	/** The failure the run ends with when it stops (Stop Workflow): sentence, hint and details. */
	async function stoppedBy(extra: Partial<RunOptions> = {}, options: INodeParameters = {}) {
		const { error } = await send([toChat1341('hi'), toChat1341('there')], options, {
			onError: 'stopWorkflow',
			...extra,
		});
		return {
			sentence: error?.message,
			hint: error?.description,
			details: (error as unknown as { context?: IDataObject } | undefined)?.context,
			httpCode: (error as unknown as { httpCode?: string } | undefined)?.httpCode,
		};
	}
	const webhook = (webhookUrl: string) => ({
		credential: { type: 'bitrix24WebhookApi' as const, data: { webhookUrl } },
	});
	const restCalls = () => emulator.requests.filter((request) => request.path.startsWith('/rest/'));

	it.each(SENDING_MODES)(
		'a wrong webhook code: INVALID_CREDENTIALS says so and how to fix it; one call for the run, %s',
		async (_mode, options) => {
			const wrong = emulator.webhookUrl.replace(WEBHOOK_CODE, 'wrongcode123');
			const { outputs } = await send(
				[toChat1341('one'), toChat1341('two'), toChat1341('three')],
				options,
				webhook(wrong),
			);

			expect(outputs[1].map((item) => item.json.details)).toEqual(
				[0, 1, 2].map(() => ({
					code: 'INVALID_CREDENTIALS',
					description: 'Invalid request credentials',
					httpStatus: 401,
					method: SEND,
					delivery: 'not_sent',
				})),
			);
			expect(outputs[1][0].json.error).toBe(
				'Bitrix24 did not accept the webhook: its code is wrong, or the webhook was deleted or deactivated (INVALID_CREDENTIALS)',
			);
			// n8n's httpRequestWithAuthentication sends a request that got 401 once more; the run's other calls stay home.
			expect(restCalls()).toHaveLength(2);
			expect(new Set(restCalls().map((request) => request.rawBody)).size).toBe(1);
			const stop = await stoppedBy(webhook(wrong), options);
			expect(stop.hint).toMatch(
				/^Copy the webhook URL again from Bitrix24 \(Developer resources > Other > Inbound webhook\)/,
			);
			expect(stop.hint).toContain('Nothing was posted');
			expect(stop.httpCode).toBe('401');
		},
	);

	it("a free plan: ACCESS_DENIED 401 is the plan, not the entity, with the plan's hint", async () => {
		emulator.world.portal.restAvailable = false;
		const { sentence, hint } = await stoppedBy();

		expect(sentence).toBe(
			"Bitrix24 refused the call: the portal's plan does not include the REST API (ACCESS_DENIED)",
		);
		expect(hint).toMatch(/^Webhooks and applications work on Bitrix24's commercial plans only/);
		expect(hint).not.toMatch(/read access/);
	});

	it('an entity the sender may not read: ACCESS_DENIED 403 keeps the entity sentence and hint', async () => {
		const { sentence, hint, httpCode } = await stoppedBy({
			items: [{ type: 'deal', entityId: 501, sender: USERS.MARIA_MANAGER, chat: 1500, text: 'hi' }],
		});

		expect(sentence).toBe('Bitrix24 denied access to deal 501 (ACCESS_DENIED)');
		expect(hint).toMatch(/need read access to this CRM entity/);
		expect(httpCode).toBe('403');
	});

	it.each([
		[
			"the webhook's user was deactivated",
			() => (emulator.world.users.find((user) => user.id === USERS.ANNA_ADMIN)!.active = false),
			"Bitrix24 could not sign in the credential's user (authorization_error)",
			/user who created it; that user is probably dismissed or deactivated/,
		],
		[
			'Bitrix24 blocked the webhook for overload',
			() => (emulator.world.webhooks[0].overloaded = true),
			"Bitrix24 has blocked the portal's REST API because of overload (OVERLOAD_LIMIT)",
			/contact Bitrix24 support/,
		],
		[
			'the portal wants https and the webhook URL says http',
			() => (emulator.world.portal.httpsRequired = true),
			'Bitrix24 requires HTTPS for webhook calls (INVALID_REQUEST)',
			/https:\/\/ address of the portal/,
		],
		[
			'the portal is closed',
			() => (emulator.world.portal.closed = true),
			'The Bitrix24 portal is deleted or its public part is closed (PORTAL_DELETED)',
			/Temporary closure of the public part/,
		],
	])('%s: its own sentence and hint, nothing posted', async (_name, arrange, sentence, hint) => {
		arrange();
		const stop = await stoppedBy();

		expect(stop.sentence).toBe(sentence);
		expect(stop.hint).toMatch(hint);
		expect(stop.hint).toContain('Nothing was posted');
		expect(posted()).toEqual([]);
	});

	it('a webhook without imopenlines, batched: Bitrix24 answers the batch 200 and each command insufficient_scope with no description', async () => {
		const { outputs } = await send(
			[toChat1341('one'), toChat1341('two')],
			{},
			webhook(emulator.limitedWebhookUrl),
		);

		expect(outputs[1].map((item) => [item.json.error, item.json.details])).toEqual(
			[0, 1].map(() => [
				'The Bitrix24 webhook or application lacks the imopenlines permission (insufficient_scope)',
				{
					code: 'insufficient_scope',
					description: '',
					httpStatus: 401,
					method: SEND,
					delivery: 'not_sent',
				},
			]),
		);
		expect(emulator.requests.map((request) => [request.restMethod, request.status])).toEqual([
			['batch', 200],
		]);
	});
});

describe('OAuth2: n8n takes every 401 for an expired token, refreshes and sends once more', () => {
	function viaOAuth(
		items: IDataObject[],
		options: INodeParameters,
		credentials: TestCredentialsHelper,
	) {
		return runNode({
			credential: oauthCredential(emulator, { ...emulator.issueOAuthTokens() }),
			credentials,
			items,
			parameters: { ...MAPPED_PARAMETERS, options },
			onError: 'continueErrorOutput',
		});
	}
	const refreshes = () => emulator.requests.filter((request) => request.path === '/oauth/token/');
	const restCalls = () => emulator.requests.filter((request) => request.path.startsWith('/rest/'));
	const threeItems = [toChat1341('one'), toChat1341('two'), toChat1341('three')];

	it.each(SENDING_MODES)(
		'a free plan ends in the plan\'s ACCESS_DENIED after one refresh and two requests for the whole run, %s, not a "reconnect"',
		async (_mode, options) => {
			emulator.world.portal.restAvailable = false;
			const credentials = new TestCredentialsHelper();
			const { outputs } = await viaOAuth(threeItems, options, credentials);

			expect(outputs[1].map((item) => item.json.details)).toEqual(
				[0, 1, 2].map(() => ({
					code: 'ACCESS_DENIED',
					description: 'REST is available only on commercial plans.',
					httpStatus: 401,
					method: SEND,
					delivery: 'not_sent',
				})),
			);
			expect(outputs[1][0].json.error).toBe(
				"Bitrix24 refused the call: the portal's plan does not include the REST API (ACCESS_DENIED)",
			);
			expect(refreshes()).toHaveLength(1);
			expect(restCalls().map((request) => request.status)).toEqual([401, 401]);
			// The refresh itself worked: the credential keeps its new token pair.
			expect(credentials.oauthUpdates).toBe(1);
		},
	);

	it.each(SENDING_MODES)(
		'an application without the imopenlines scope ends in insufficient_scope, %s',
		async (mode, options) => {
			emulator.world.oauthApps[0].scopes = ['crm', 'user'];
			const { outputs } = await viaOAuth(threeItems, options, new TestCredentialsHelper());

			expect(outputs[1].map((item) => item.json.details)).toEqual(
				[0, 1, 2].map(() =>
					expect.objectContaining({
						code: 'insufficient_scope',
						httpStatus: 401,
						delivery: 'not_sent',
					}),
				),
			);
			// Alone, the call gets 401: one refresh and one more try for the run. A batch is in the global scope: it
			// answers 200 with each command refused inside, so nothing is refreshed.
			expect(refreshes()).toHaveLength(mode === 'in batches' ? 0 : 1);
			expect(restCalls().map((request) => request.status)).toEqual(
				mode === 'in batches' ? [200] : [401, 401],
			);
			const { error } = await runNode({
				credential: oauthCredential(emulator, { ...emulator.issueOAuthTokens() }),
				items: [toChat1341('hi')],
				parameters: { ...MAPPED_PARAMETERS, options },
			});
			expect(error?.message).toBe(
				'The Bitrix24 webhook or application lacks the imopenlines permission (insufficient_scope)',
			);
			expect(error?.description).toMatch(
				/an OAuth2 credential must then be connected again, so its token carries the new scope/,
			);
		},
	);
});

describe('refusals of the messenger (they replace MESSAGE_ADD_ERROR)', () => {
	const vetoed = () =>
		(emulator.world.chats.find((chat) => chat.id === 1341)!.messengerErrors = [
			{ code: 'ERROR_FROM_OTHER_MODULE', message: 'Messages to this client are paused' },
		]);

	it.each(SENDING_MODES)(
		'another module vetoes the message: ERROR_FROM_OTHER_MODULE with its reason, not sent, %s',
		async (_mode, options) => {
			vetoed();
			const { outputs } = await send([toChat1341('hi')], options);

			expect(outputs[1][0].json).toMatchObject({
				error:
					'Another module of the portal refused the message to the chat 1341: Messages to this client are paused (ERROR_FROM_OTHER_MODULE)',
				details: { code: 'ERROR_FROM_OTHER_MODULE', httpStatus: 400, delivery: 'not_sent' },
			});
			const { error } = await send([toChat1341('hi')], options, { onError: 'stopWorkflow' });
			expect(error?.description).toMatch(/An event handler on the portal .* vetoed it/);
			expect(posted()).toEqual([]);
		},
	);

	it('several refusals at once: ERROR_CORE with their texts; alone the 400 says not sent, inside a batch (no status) the node cannot tell it from a database error', async () => {
		emulator.world.chats.find((chat) => chat.id === 1341)!.messengerErrors = [
			{ code: 'A', message: 'Paused' },
			{ code: 'B', message: 'Over quota' },
		];
		const alone = await send([toChat1341('hi')]);
		const batched = await send([toChat1341('one'), toChat1341('two')]);

		expect(alone.outputs[1][0].json).toMatchObject({
			error:
				'Bitrix24 reported several errors at once, or a database error: Paused<br>Over quota<br> (ERROR_CORE)',
			details: { code: 'ERROR_CORE', httpStatus: 400, delivery: 'not_sent' },
		});
		expect(batched.outputs[1].map((item) => item.json.details)).toEqual(
			[0, 1].map(() =>
				expect.objectContaining({ code: 'ERROR_CORE', httpStatus: 500, delivery: 'unknown' }),
			),
		);
	});
});

describe.each(SENDING_MODES)(
	'Add Sender to Chat meets the checks of imopenlines.crm.chat.user.add, sending %s',
	(_mode, options) => {
		const fromSender = (sender: number) =>
			send(
				[{ ...toChat1341('hello'), sender }],
				{ ...options, addSenderToChat: true },
				{ onError: 'continueErrorOutput' },
			);

		const refusals: Array<[string, number, () => unknown, string, string]> = [
			[
				'a deactivated sender',
				USERS.IVAN_FORMER,
				() => undefined,
				'CRM_CHAT_USER_NOT_ACTIVE',
				'Bitrix24 could not add the sender 45 to the chat 1341: the user does not exist or is deactivated (CRM_CHAT_USER_NOT_ACTIVE)',
			],
			[
				'a chat that takes no new members',
				USERS.MARIA_MANAGER,
				() => (emulator.world.chats.find((chat) => chat.id === 1341)!.refusesNewMembers = true),
				'WRONG_REQUEST',
				'Bitrix24 refused to add the sender 31 to the chat 1341 (WRONG_REQUEST)',
			],
			[
				'a portal without the messenger module',
				USERS.MARIA_MANAGER,
				() => (emulator.world.portal.imInstalled = false),
				'IM_NOT_INSTALLED',
				'The messenger (im) module is not installed on the Bitrix24 portal (IM_NOT_INSTALLED)',
			],
		];

		it.each(refusals)(
			'%s: the item fails with the code of the refusal, not sent',
			async (_name, sender, arrange, code, sentence) => {
				arrange();
				const { outputs } = await fromSender(sender);

				expect(outputs[1][0].json).toMatchObject({
					error: sentence,
					details: {
						code,
						httpStatus: 400,
						method: 'imopenlines.crm.chat.user.add',
						delivery: 'not_sent',
					},
				});
				expect(posted()).toEqual([]);
			},
		);
	},
);

describe('CRM entity types Bitrix24 never validates', () => {
	it('a type chats are never linked to is refused before sending (Bitrix24 would only fail later, CHAT_NOT_IN_CRM); any case passes', async () => {
		const { outputs } = await send([
			{ ...toChat1341('to a quote'), type: 'quote', entityId: 7 },
			{ ...toChat1341('to the lead'), type: ' Lead ' },
		]);

		expect(outputs[1][0].json.details).toEqual({
			code: 'ERROR_ARGUMENT',
			description:
				'The field "CRM Entity Type" (CRM_ENTITY_TYPE) must be one of lead, deal, company, contact, not "quote"',
			httpStatus: null,
			argument: 'CRM_ENTITY_TYPE',
			delivery: 'not_sent',
		});
		expect(emulator.messages.map((message) => [message.crmEntityType, message.message])).toEqual([
			['lead', 'to the lead'],
		]);
	});
});
