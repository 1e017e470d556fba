import { sleep, type IDataObject } from 'n8n-workflow';

import { parseBatchCommand } from '../../../tools/emulator';
import {
	batchFormOf,
	batchOutcome,
	type BatchForm,
	MAX_BATCH_BYTES,
	RestBatcher,
	rewrittenInBatch,
	type RetryPolicy,
	type SendOne,
} from '../../../nodes/shared/batching';
import { Bitrix24Failure } from '../../../nodes/shared/errors';
import { OrderedLanes } from '../../../nodes/shared/runState';

const SEND = 'imopenlines.crm.message.add';

/** The batch command of a call the node can send. */
const batchCommand = (method: string, params: IDataObject): string => {
	const form = batchFormOf(method, params);
	if (form instanceof Bitrix24Failure) throw form;
	return form.command;
};

const request = (MESSAGE: string) => ({
	CRM_ENTITY_TYPE: 'lead' as const,
	CRM_ENTITY: 1195,
	USER_ID: 27,
	CHAT_ID: 1341,
	MESSAGE,
});

describe('batchCommand', () => {
	it.each([
		'plain',
		'Hi & bye = 1 + 1 %20 #x ?a=b',
		'Line 1\nLine 2\r\n\ttab',
		'😀 Привет 你好 "quoted" \'single\' \\ backslash',
		'[b]bold[/b] [URL=https://example.com/?q=1&r=2]link[/URL]',
	])('encodes %j so that a PHP query parser reads it back unchanged', (text) => {
		const command = batchCommand('imopenlines.crm.message.add', request(text));

		expect(command.startsWith('imopenlines.crm.message.add?')).toBe(true);
		expect(parseBatchCommand(command)).toEqual({
			method: 'imopenlines.crm.message.add',
			params: {
				CRM_ENTITY_TYPE: 'lead',
				CRM_ENTITY: '1195',
				USER_ID: '27',
				CHAT_ID: '1341',
				MESSAGE: text,
			},
		});
	});
});

describe('batchCommand with nested parameters', () => {
	it('writes objects and lists in PHP bracket form, read back as the same structure', () => {
		const params = {
			botId: 39,
			dialogId: 'chat2001',
			fields: {
				message: 'Hi & [b]you[/b]',
				keyboard: [{ TEXT: 'Go = 1', LINK: 'https://x.test/?a=1&b=2' }, { TYPE: 'NEWLINE' }],
			},
		};

		expect(parseBatchCommand(batchCommand('imbot.v2.Chat.Message.send', params))).toEqual({
			method: 'imbot.v2.Chat.Message.send',
			params: {
				botId: '39',
				dialogId: 'chat2001',
				fields: {
					message: 'Hi & [b]you[/b]',
					keyboard: {
						'0': { TEXT: 'Go = 1', LINK: 'https://x.test/?a=1&b=2' },
						'1': { TYPE: 'NEWLINE' },
					},
				},
			},
		});
	});
});

describe('batchFormOf: keys', () => {
	const BOT = 'imbot.v2.Chat.Message.send';
	/** The command as the webhook credential sends it: the bot token appended last. */
	const withToken = (command: string) => `${command}&botToken=${encodeURIComponent('secret')}`;

	it.each([
		'X&dialogId=chat2002&Y',
		'a#b',
		'a=b',
		'what?',
		'100%',
		'a+b',
		'a;b',
		'$x',
		' padded ',
		'😀 ключ',
	])('percent-encodes the key %j: it arrives as one key and changes no other parameter', (key) => {
		const params = {
			botId: 39,
			dialogId: 'chat2001',
			fields: { attach: [{ LINK: { [key]: 'z' } }] },
		};

		expect(parseBatchCommand(withToken(batchCommand(BOT, params))).params).toEqual({
			botId: '39',
			dialogId: 'chat2001',
			fields: { attach: { '0': { LINK: { [key]: 'z' } } } },
			botToken: 'secret',
		});
	});

	it.each([
		['a [', 'a['],
		['a ]', 'a]b'],
		['a NUL', 'a\u0000b'],
		['an empty key', ''],
		['a single space', ' '],
		['a single new line', '\n'],
		['half of an emoji', 'x\uD83D'],
	])(
		'refuses %s in a nested key (ERROR_ARGUMENT naming the parameter), in either mode',
		(_case, key) => {
			const failure = batchFormOf(BOT, { fields: { attach: [{ LINK: { [key]: 'z' } }] } });

			expect(failure).toBeInstanceOf(Bitrix24Failure);
			expect((failure as Bitrix24Failure).details).toMatchObject({
				code: 'ERROR_ARGUMENT',
				argument: 'fields',
				method: BOT,
				delivery: 'not_sent',
			});
			expect((failure as Bitrix24Failure).description).toContain(
				`The parameter fields[attach][0][LINK] has the key ${JSON.stringify(key)}`,
			);
		},
	);

	it('the key %5B is refused only as itself: a key made of the characters % 5 B is fine', () => {
		expect(batchFormOf(BOT, { fields: { '%5B': 'z' } })).not.toBeInstanceOf(Bitrix24Failure);
	});

	it.each(['a.b', 'a b', ' a', 'a[b]', ''])(
		'refuses the parameter name %j, which parse_str would change',
		(name) => {
			expect((batchFormOf(BOT, { [name]: 'x' }) as Bitrix24Failure).description).toContain(
				`The parameter name ${JSON.stringify(name)}`,
			);
		},
	);

	it('refuses half of an emoji in a nested value, naming where', () => {
		expect(
			(batchFormOf(BOT, { fields: { keyboard: [{ TEXT: 'ok \uDE00' }] } }) as Bitrix24Failure)
				.description,
		).toBe(
			'The parameter fields[keyboard][0][TEXT] has half of an emoji or other character at position 4 (the text was probably cut inside it)',
		);
	});
});

describe('batchFormOf: whether parse_str reads the command back as the call sent alone gives it', () => {
	const faithful = (params: IDataObject) => (batchFormOf(SEND, params) as BatchForm).faithful;
	const nested = (levels: number): IDataObject =>
		levels === 0 ? { x: 'deep' } : { x: nested(levels - 1) };

	it('text and whole numbers, nested to 64 levels, under 1,000 pairs: yes', () => {
		expect(faithful({ CHAT_ID: 1341, MESSAGE: 'x', fields: { a: [1, 'b'] } })).toBe(true);
		expect(faithful({ a: nested(62) })).toBe(true);
		expect(faithful({ a: Array.from({ length: 999 }, String) })).toBe(true);
	});

	it.each([
		['true', { a: true }],
		['1.5', { a: 1.5 }],
		['a number past 2^53', { a: 2 ** 60 }],
		['null', { a: null }],
		['an empty object', { a: { b: {} } }],
		['an empty list', { a: [] }],
		['65 levels', { a: nested(64) }],
		['1,000 pairs (the bot token needs one more)', { a: Array.from({ length: 1000 }, String) }],
		['a reference a batch would rewrite', { a: { b: 'pay $result[x]' } }],
	])('%s: no, so the call goes as itself', (_case, params) => {
		expect(faithful(params as IDataObject)).toBe(false);
	});
});

describe('rewrittenInBatch', () => {
	it.each([
		['Total: $result[c0].', true],
		['$error[item0_1][error]', true],
		['cost $USD[1] today', true],
		// PHP's \s does not take a no-break space: the run goes on to the bracket.
		['$result\u00a0[x]', true],
		['in a list: {"a": {"b": "$next[3]"}}', true],
		['$ 5 [x]', false],
		['price $5[x]', false],
		['$abc[] or $ab[c d]', false],
		['Dear customer, your order costs $25.', false],
	])('%j: %s', (text, rewritten) => {
		expect(rewrittenInBatch({ MESSAGE: text })).toBe(rewritten);
	});

	it('looks into nested parameters', () => {
		expect(rewrittenInBatch({ FILTER: { FIND: '$total[0]' } })).toBe(true);
	});

	it('and into lists, such as a keyboard', () => {
		expect(rewrittenInBatch({ fields: { keyboard: [{ TEXT: 'Pay $result[x]' }] } })).toBe(true);
		expect(rewrittenInBatch({ fields: { keyboard: [{ TEXT: 'Pay $5' }] } })).toBe(false);
	});
});

describe('batchOutcome', () => {
	const answer = {
		result: { item0: 19880117, item2: '19880118' },
		result_error: {
			item1: {
				error: 'CHAT_NOT_IN_CRM',
				error_description: 'Chat does not belong to the CRM entity being checked',
			},
		},
		result_total: [],
		result_next: [],
	};

	it("maps each key to its command's result", () => {
		expect(batchOutcome(answer, 'item0', SEND)).toEqual({ result: 19880117 });
		expect(batchOutcome(answer, 'item2', SEND)).toEqual({ result: '19880118' });
	});

	it('gives a failed command the status Bitrix24 documents for its code', () => {
		const outcome = batchOutcome(answer, 'item1', SEND) as Bitrix24Failure;

		expect(outcome).toBeInstanceOf(Bitrix24Failure);
		expect(outcome.details).toEqual({
			code: 'CHAT_NOT_IN_CRM',
			description: 'Chat does not belong to the CRM entity being checked',
			httpStatus: 400,
			method: SEND,
			delivery: 'not_sent',
		});
	});

	it('tells a server error inside one command as maybe-acted, a refusal as not sent', () => {
		const failed = {
			result_error: {
				a: { error: 'INTERNAL_SERVER_ERROR', error_description: '' },
				b: { error: 'ACCESS_DENIED' },
				// A batch command carries no status: ERROR_CORE may be a database error after the message was stored.
				c: { error: 'ERROR_CORE', error_description: 'SQL query error!' },
			},
		};

		expect((batchOutcome(failed, 'a', SEND) as Bitrix24Failure).delivery).toBe('unknown');
		expect((batchOutcome(failed, 'b', SEND) as Bitrix24Failure).delivery).toBe('not_sent');
		expect((batchOutcome(failed, 'c', SEND) as Bitrix24Failure).delivery).toBe('unknown');
	});

	it('fails a command the answer left out', () => {
		expect((batchOutcome(answer, 'item9', SEND) as Bitrix24Failure).code).toBe(
			'UNEXPECTED_RESPONSE',
		);
		expect((batchOutcome([], 'item0', SEND) as Bitrix24Failure).code).toBe('UNEXPECTED_RESPONSE');
	});
});

const NEVER_RETRY: RetryPolicy = {
	retryAfter: async () => undefined,
	pause: async () => undefined,
};

/** The batch calls a RestBatcher makes, answered by `answer`. */
function recordingBatcher(answer: SendOne, batchSize = 50) {
	const sent: Array<{ method: string; params: Record<string, unknown> }> = [];
	const batcher = new RestBatcher(
		async (method, params) => {
			sent.push({ method, params });
			return await answer(method, params);
		},
		batchSize,
		new OrderedLanes(),
		NEVER_RETRY,
	);
	return { batcher, sent };
}

const echoBatch: SendOne = async (method, params) =>
	method === 'batch'
		? {
				result: {
					result: Object.fromEntries(Object.keys(params.cmd as object).map((key) => [key, key])),
				},
			}
		: { result: 'alone' };

describe('RestBatcher', () => {
	it('settles every item with a failure when sending the batch throws, instead of leaving them waiting', async () => {
		const { batcher } = recordingBatcher(async () => {
			throw new Error('injected: a bug while sending');
		});

		const outcomes = await Promise.all(
			[0, 1, 2].map(
				async (index) =>
					await batcher.call({ method: SEND, params: { MESSAGE: `m${index}` } }, index),
			),
		);

		for (const outcome of outcomes) {
			expect(outcome).toBeInstanceOf(Bitrix24Failure);
			expect((outcome as Bitrix24Failure).details).toMatchObject({
				code: 'DELIVERY_UNKNOWN',
				delivery: 'unknown',
				method: SEND,
			});
		}
	});

	it('fails only the item whose text cannot be encoded, sending the others', async () => {
		const { batcher, sent } = recordingBatcher(echoBatch);

		const outcomes = await Promise.all(
			['fine', 'half an emoji \uD83D', 'also fine'].map(
				async (MESSAGE, index) => await batcher.call({ method: SEND, params: { MESSAGE } }, index),
			),
		);

		expect((outcomes[1] as Bitrix24Failure).details).toMatchObject({
			code: 'ERROR_ARGUMENT',
			delivery: 'not_sent',
		});
		expect(outcomes[0]).toEqual({ result: expect.any(String) });
		expect(outcomes[2]).toEqual({ result: expect.any(String) });
		expect(sent).toHaveLength(1);
		expect(Object.keys(sent[0].params.cmd as object)).toHaveLength(2);
	});

	it('fails only the item whose key Bitrix24 cannot read, sending the others', async () => {
		const { batcher, sent } = recordingBatcher(echoBatch);

		const outcomes = await Promise.all(
			['fine', 'a]b', 'also fine'].map(
				async (key, index) =>
					await batcher.call({ method: SEND, params: { FIELDS: { [key]: 'x' } } }, index),
			),
		);

		expect((outcomes[1] as Bitrix24Failure).details).toMatchObject({
			code: 'ERROR_ARGUMENT',
			argument: 'FIELDS',
			delivery: 'not_sent',
		});
		expect(sent).toHaveLength(1);
		expect(Object.keys(sent[0].params.cmd as object)).toHaveLength(2);
	});

	it('sends a call a batch would carry differently as itself, with its own JSON', async () => {
		const { batcher, sent } = recordingBatcher(echoBatch);

		await Promise.all(
			[{ A: 'one' }, { A: 'two' }, { A: { EMPTY: {} } }, { A: 'three' }, { A: 'four' }].map(
				async (params, index) => await batcher.call({ method: SEND, params }, index),
			),
		);

		expect(sent.map((call) => (call.method === 'batch' ? 'batch' : call.params))).toEqual([
			'batch',
			{ A: { EMPTY: {} } },
			'batch',
		]);
	});

	it('sends a call whose text a batch would rewrite as itself, in its place between batches', async () => {
		const { batcher, sent } = recordingBatcher(echoBatch);

		await Promise.all(
			['one', 'two', 'see $result[item0_1]', 'three', 'four'].map(
				async (MESSAGE, index) => await batcher.call({ method: SEND, params: { MESSAGE } }, index),
			),
		);

		expect(
			sent.map((call) =>
				call.method === 'batch'
					? Object.keys(call.params.cmd as object).length
					: call.params.MESSAGE,
			),
		).toEqual([2, 'see $result[item0_1]', 2]);
	});

	it('asks the failures after a CANCELED again, alone and in order, and keeps their own reasons', async () => {
		const refused = (error: string) => ({ error, error_description: '' });
		const { batcher, sent } = recordingBatcher(async (method, params) => {
			if (method !== 'batch')
				return new Bitrix24Failure('CHAT_NOT_IN_CRM', 'its own reason', 400, undefined, SEND);
			const keys = Object.keys(params.cmd as object);
			return {
				result: {
					result: { [keys[2]]: 19880117 },
					// Bitrix24 says CANCELED for every failure after the first CANCELED.
					result_error: {
						[keys[0]]: refused('ACCESS_DENIED'),
						[keys[1]]: refused('CANCELED'),
						[keys[3]]: refused('CANCELED'),
						[keys[4]]: refused('CANCELED'),
					},
				},
			};
		});

		const outcomes = await Promise.all(
			['a', 'b', 'c', 'd', 'e'].map(
				async (MESSAGE, index) => await batcher.call({ method: SEND, params: { MESSAGE } }, index),
			),
		);

		expect(
			outcomes.map((outcome) =>
				outcome instanceof Bitrix24Failure ? outcome.code : outcome.result,
			),
		).toEqual(['ACCESS_DENIED', 'CANCELED', 19880117, 'CHAT_NOT_IN_CRM', 'CHAT_NOT_IN_CRM']);
		expect(sent.map((call) => call.params.MESSAGE ?? call.method)).toEqual(['batch', 'd', 'e']);
	});

	it('splits a batch whose body would pass the byte cap', async () => {
		const { batcher, sent } = recordingBatcher(echoBatch);
		// 20,000 emoji encode to 240,000 bytes each: four fit under 1 MB.
		const heavy = '😀'.repeat(20000);

		await Promise.all(
			Array.from(
				{ length: 10 },
				async (_, index) => await batcher.call({ method: SEND, params: { MESSAGE: heavy } }, index),
			),
		);

		const sizes = sent.map((call) =>
			Object.values(call.params.cmd as Record<string, string>).reduce(
				(sum, command) => sum + command.length,
				0,
			),
		);
		expect(sent.map((call) => Object.keys(call.params.cmd as object).length)).toEqual([4, 4, 2]);
		for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_BATCH_BYTES);
	});

	it('sends a batch holding a message to a chat only after the earlier batch to that chat answered', async () => {
		const events: string[] = [];
		const { batcher } = recordingBatcher(async (method, params) => {
			const keys = Object.keys(params.cmd as object);
			events.push(`start ${keys[0]}`);
			// The first batch answers slowly: a parallel second batch would overtake it.
			await sleep(keys[0] === 'item0_1' ? 100 : 0);
			events.push(`end ${keys[0]}`);
			return await echoBatch(method, params);
		}, 2);

		await Promise.all(
			[0, 1, 2, 3].map(
				async (index) =>
					await batcher.call(
						{ method: SEND, params: { MESSAGE: `part ${index}` }, lane: 'chat:1341' },
						index,
					),
			),
		);

		expect(events).toEqual(['start item0_1', 'end item0_1', 'start item2_3', 'end item2_3']);
	});
});
