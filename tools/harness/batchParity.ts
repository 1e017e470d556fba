/**
 * Batch mode against one request per call, for random keys and values: the same items run through n8n's engine
 * against the emulated portal in both sending modes, through every operation that batches. What the portal was asked
 * (each call's parameters, as parse_str reads a batch command or the JSON body gives a lone call) and how each item
 * ended must be the same: a batch command may carry nothing but the call itself. And, without n8n, any parameters'
 * batch command reads back (parse_str) as the parameters themselves. Used by
 * test/nodes/shared/batching.property.test.ts and `npm run bench -- --only fuzz`.
 */
import * as fc from 'fast-check';
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { BLOCK_RULES } from '../../nodes/Bitrix24OpenChannels/resources/botDialog/attachment';
import { batchFormOf } from '../../nodes/shared/batching';
import { Bitrix24Failure } from '../../nodes/shared/errors';
import {
	BOT_DIALOGS,
	BOTS,
	CHATS,
	DEALS,
	LEADS,
	OPEN_LINES,
	parseBatchCommand,
	SUPPORT_BOT_TOKEN,
	USERS,
	type Emulator,
	type ParamValue,
	type RecordedRequest,
} from '../emulator';
import { MAPPED_PARAMETERS, runNode } from './runWorkflow';

/** Characters and pieces that mean something to a query string, to parse_str, to `batch` or to UTF-16. */
const TRICKY = [
	'&',
	'=',
	'#',
	'?',
	'[',
	']',
	'[]',
	'%',
	'%26',
	'%5B',
	'%00',
	'$',
	'$result[item0_1]',
	'+',
	';',
	' ',
	'.',
	'\n',
	'\t',
	'\0',
	'ü',
	'中文',
	'😀',
	'👩‍👩‍👧',
	'__proto__',
	'dialogId=chat2002',
	'0',
];

const loneSurrogate = fc
	.integer({ min: 0xd800, max: 0xdfff })
	.map((code) => String.fromCharCode(code));

const piece = fc.oneof(
	{ weight: 5, arbitrary: fc.constantFrom(...TRICKY) },
	{ weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
	{ weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 3 }) },
);
const someText = fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join(''));

/**
 * Text of tricky pieces; now and then empty, cut inside an emoji (half of a surrogate pair) or thousands of
 * characters long (past the 20,000 of a message, or the 60,000 of an attachment).
 */
export const anyText: fc.Arbitrary<string> = fc.oneof(
	{ weight: 12, arbitrary: someText },
	{ weight: 1, arbitrary: fc.constant('') },
	{
		weight: 1,
		arbitrary: fc
			.tuple(someText, loneSurrogate, fc.option(someText))
			.map(([before, half, after]) => `${before}${half}${after ?? ''}`),
	},
	{
		weight: 1,
		arbitrary: fc
			.tuple(piece, fc.integer({ min: 1_000, max: 21_000 }))
			.map(([part, length]) => part.repeat(length).slice(0, length)),
	},
);

/** A button's text, a MESSAGE block: mostly some text. */
const label = fc.oneof({ weight: 12, arbitrary: someText }, { weight: 1, arbitrary: anyText });

/** The fields of each attachment block type and the one each needs, from the node's own table of Bitrix24's docs. */
const BLOCK_FIELDS: Record<string, string[]> = Object.fromEntries(
	Object.entries(BLOCK_RULES).map(([type, rule]) => [type, rule.fields ?? []]),
);
const REQUIRED: Record<string, string | undefined> = Object.fromEntries(
	Object.entries(BLOCK_RULES).map(([type, rule]) => [type, rule.required]),
);

/** A key: mostly a documented field name, otherwise anything. */
export const anyKey: fc.Arbitrary<string> = fc.oneof(
	fc.constantFrom(...new Set(Object.values(BLOCK_FIELDS).flat())),
	anyText,
);

/** Any JSON value an expression may hand over, small: mostly text or a number. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
	value: fc.oneof(
		{ weight: 12, arbitrary: anyText },
		{ weight: 4, arbitrary: fc.integer() },
		{ weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
		{ weight: 1, arbitrary: fc.boolean() },
		{ weight: 1, arbitrary: fc.constant(null) },
		{ weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 2 }) },
		{ weight: 1, arbitrary: fc.dictionary(anyKey, tie('value'), { maxKeys: 2 }) },
	),
})).value;

/** A link as Bitrix24 takes it (no whitespace), query characters and all; now and then anything. */
const link = fc.oneof(
	{
		weight: 2,
		arbitrary: fc.constantFrom('https://shop.example.com/1?a=1&b=2#top', '/upload/a.pdf'),
	},
	{
		weight: 4,
		arbitrary: fc
			.tuple(fc.constantFrom('https://shop.example.com/', '/'), someText)
			.map(([base, path]) => `${base}${path.replace(/\s/g, '')}`),
	},
	{ weight: 1, arbitrary: anyText },
);

/** What a field of an attachment or a button holds: mostly text or a number, now and then anything. */
const fieldValue = fc.oneof(
	{ weight: 10, arbitrary: someText },
	{ weight: 3, arbitrary: fc.integer() },
	{ weight: 2, arbitrary: anyValue },
);

/** Now and then, one more key of any name. */
const extraKey = fc.oneof(
	{ weight: 15, arbitrary: fc.constant(null) },
	{ weight: 1, arbitrary: fc.tuple(anyKey, anyValue) },
);
const withExtra = <T extends object>([entry, extra]: [T, [string, unknown] | null]) =>
	extra === null ? entry : { ...entry, [extra[0]]: extra[1] };

/** One object of a block: its required field and up to two documented ones (links where links go). */
function blockObject(type: string): fc.Arbitrary<IDataObject> {
	const required = REQUIRED[type];
	const valueOf = (field: string) =>
		field === 'DISPLAY'
			? fc.oneof(
					{ weight: 12, arbitrary: fc.constantFrom('BLOCK', 'LINE', 'ROW', 'TABLE') },
					{ weight: 1, arbitrary: anyText },
				)
			: ['LINK', 'PREVIEW', 'AVATAR'].includes(field)
				? link
				: fieldValue;
	const optional = BLOCK_FIELDS[type].filter((field) => field !== required);
	return fc
		.tuple(
			fc.option(valueOf(required ?? ''), { freq: 30, nil: undefined }),
			fc
				.subarray(optional, { maxLength: 2 })
				.chain((fields) =>
					fc.tuple(
						...fields.map((field) => valueOf(field).map((value) => [field, value] as const)),
					),
				),
			extraKey,
		)
		.map(([first, others, extra]) =>
			withExtra([
				{
					...(required === undefined || first === undefined ? {} : { [required]: first }),
					...Object.fromEntries(others),
				},
				extra,
			]),
		) as fc.Arbitrary<IDataObject>;
}

const block: fc.Arbitrary<IDataObject> = fc.oneof(
	{ weight: 3, arbitrary: label.map((text) => ({ MESSAGE: text })) },
	...['LINK', 'USER', 'DELIMITER'].map((type) => ({
		weight: 2,
		arbitrary: blockObject(type).map((entry) => ({ [type]: entry })),
	})),
	...['GRID', 'IMAGE', 'FILE'].map((type) => ({
		weight: 2,
		arbitrary: fc
			.array(blockObject(type), { minLength: 1, maxLength: 2 })
			.map((list) => ({ [type]: list })),
	})),
	{ weight: 1, arbitrary: fc.dictionary(anyKey, anyValue, { maxKeys: 2 }) },
) as fc.Arbitrary<IDataObject>;

/** An attachment: a list of blocks or the full form, as an object or JSON text, or something else altogether. */
export const anyAttachment: fc.Arbitrary<unknown> = fc.oneof(
	{ weight: 4, arbitrary: fc.constant(undefined) },
	{ weight: 6, arbitrary: fc.array(block, { minLength: 1, maxLength: 3 }) },
	{
		weight: 2,
		arbitrary: fc
			.tuple(
				fc.record(
					{
						ID: fieldValue,
						COLOR_TOKEN: fc.oneof(
							{ weight: 6, arbitrary: fc.constantFrom('primary', 'secondary', 'alert', 'base') },
							{ weight: 1, arbitrary: anyText },
						),
						COLOR: fieldValue,
						BLOCKS: fc.array(block, { minLength: 1, maxLength: 3 }),
					},
					{ requiredKeys: ['BLOCKS'] },
				),
				extraKey,
			)
			.map(withExtra),
	},
	{
		weight: 2,
		arbitrary: fc.array(block, { minLength: 1, maxLength: 2 }).map((b) => JSON.stringify(b)),
	},
	{ weight: 1, arbitrary: anyValue },
);

/** An ID field as a workflow maps it: mostly one the portal knows, otherwise anything. */
const idOf = (...known: Array<number | string>) =>
	fc.oneof(
		{ weight: 20, arbitrary: fc.constantFrom(...known) },
		{ weight: 1, arbitrary: anyValue },
	);

const dialogChat = idOf(
	BOT_DIALOGS.WITH_BOT,
	BOT_DIALOGS.WITH_BOT,
	BOT_DIALOGS.WITH_BOT_TELEGRAM,
	`chat${BOT_DIALOGS.WITH_BOT}`,
	BOT_DIALOGS.WITH_OPERATOR,
	BOT_DIALOGS.FINISHED,
);

/** One run of the node: its parameters (without the sending mode) and its items. */
export interface ParityCase {
	name: string;
	parameters: INodeParameters;
	items: IDataObject[];
}

const BOT_DIALOG = { resource: 'botDialog', dialogChatId: '={{ $json.chatId }}' };
const items = <T>(item: fc.Arbitrary<T>) => fc.array(item, { minLength: 1, maxLength: 4 });

const button = fc.record({
	type: fc.constantFrom('send', 'link', 'command'),
	newRow: fc.boolean(),
});

/** Every operation that gathers its calls into batches, with random items. */
export const PARITY_CASES: Record<string, fc.Arbitrary<ParityCase>> = {
	'CRM Chat > Send Message': items(
		fc.record({
			target: fc.oneof(
				{
					weight: 4,
					arbitrary: fc.constantFrom<unknown[]>(
						['lead', LEADS.WEBSITE_INQUIRY, USERS.OLEG_OPERATOR, CHATS.LEAD_TELEGRAM_ACTIVE],
						['lead', LEADS.CALLBACK_REQUEST, USERS.OLEG_OPERATOR, CHATS.LEAD2_LIVECHAT_ACTIVE],
						['deal', DEALS.ORDER_501, USERS.MARIA_MANAGER, CHATS.DEAL_TELEGRAM_ACTIVE],
						['lead', LEADS.WEBSITE_INQUIRY, USERS.IVAN_FORMER, CHATS.LEAD_WHATSAPP_FINISHED],
					),
				},
				{ weight: 1, arbitrary: fc.array(anyValue, { minLength: 4, maxLength: 4 }) },
			),
			text: anyText,
		}),
	).map((list) => ({
		name: 'CRM Chat > Send Message',
		parameters: { resource: 'crmChat', operation: 'sendMessage', ...MAPPED_PARAMETERS },
		items: list.map(({ target: [type, entityId, sender, chat], text }) => ({
			type,
			entityId,
			sender,
			chat,
			text,
		})) as IDataObject[],
	})),
	'Bot Dialog > Send Message': fc
		.array(button, { maxLength: 2 })
		.chain((buttons) =>
			fc.tuple(
				fc.constant(buttons),
				items(
					fc.record({
						botId: idOf(...Array<number>(5).fill(BOTS.SUPPORT_BOT), BOTS.SURVEY_BOT),
						chatId: dialogChat,
						text: anyText,
						attach: anyAttachment,
						// Each button's text and value (a link for a link button).
						buttons: fc.tuple(
							...buttons.map(({ type }) => fc.tuple(label, type === 'link' ? link : label)),
						),
					}),
				),
			),
		)
		.map(([buttons, list]) => ({
			name: 'Bot Dialog > Send Message',
			parameters: {
				...BOT_DIALOG,
				operation: 'sendMessage',
				botId: { __rl: true, mode: 'id', value: '={{ $json.botId }}' },
				text: '={{ $json.text }}',
				attachment: '={{ $json.attach }}',
				buttons: {
					button: buttons.map((b, index) => ({
						...b,
						text: `={{ $json.buttons[${index}][0] }}`,
						value: `={{ $json.buttons[${index}][1] }}`,
					})),
				},
			},
			items: list as IDataObject[],
		})),
	'Bot Dialog > Hand Over to Operator': items(fc.record({ chatId: dialogChat })).map((list) => ({
		name: 'Bot Dialog > Hand Over to Operator',
		parameters: { ...BOT_DIALOG, operation: 'handOver' },
		items: list as IDataObject[],
	})),
	'Bot Dialog > Transfer': fc
		.tuple(
			fc.constantFrom('user', 'openChannel'),
			fc.boolean(),
			items(
				fc.record({
					chatId: dialogChat,
					userId: idOf(
						USERS.MARIA_MANAGER,
						USERS.OLEG_OPERATOR,
						USERS.IVAN_FORMER,
						BOTS.SUPPORT_BOT,
					),
					channelId: idOf(OPEN_LINES.SUPPORT, OPEN_LINES.SALES, OPEN_LINES.ARCHIVE),
				}),
			),
		)
		.map(([transferTo, leaveChat, list]) => ({
			name: 'Bot Dialog > Transfer',
			parameters: {
				...BOT_DIALOG,
				operation: 'transfer',
				transferTo,
				leaveChat,
				transferUserId: { __rl: true, mode: 'id', value: '={{ $json.userId }}' },
				openChannelId: { __rl: true, mode: 'id', value: '={{ $json.channelId }}' },
			},
			items: list as IDataObject[],
		})),
	'Bot Dialog > Finish': items(fc.record({ chatId: dialogChat })).map((list) => ({
		name: 'Bot Dialog > Finish',
		parameters: { ...BOT_DIALOG, operation: 'finish' },
		items: list as IDataObject[],
	})),
	'Bot Dialog > Get History': items(
		fc.record({ chatId: dialogChat, sessionId: idOf('', 343, 344, 345) }),
	).map((list) => ({
		name: 'Bot Dialog > Get History',
		parameters: { ...BOT_DIALOG, operation: 'getHistory', sessionId: '={{ $json.sessionId }}' },
		items: list as IDataObject[],
	})),
};

/** Any of the operations. */
export const anyParityCase: fc.Arbitrary<ParityCase> = fc.oneof(...Object.values(PARITY_CASES));

/**
 * Parameters as PHP holds them: a list is an array keyed 0, 1...; a number sent in JSON reads as the text a batch
 * command carries (only whole numbers go in batches: other values make the call go alone).
 */
export function phpView(value: ParamValue): ParamValue {
	if (Array.isArray(value))
		return Object.fromEntries(value.map((item, index) => [String(index), phpView(item)]));
	if (typeof value === 'object' && value !== null)
		return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, phpView(item)]));
	return typeof value === 'number' ? String(value) : value;
}

const callKey = (method: string, params: ParamValue) =>
	`${method.toLowerCase()} ${JSON.stringify(phpView(params))}`;

/**
 * Every call the portal was asked, alone or as a batch command, sorted (calls to different chats go in parallel when
 * sent alone). A lone call equal to an earlier batch command is that command asked again to learn its own reason
 * (after a CANCELED), not another call.
 */
export function callsReceived(requests: readonly RecordedRequest[]): string[] {
	const calls: string[] = [];
	const inBatches = new Map<string, number>();
	for (const request of requests) {
		if (request.restMethod === null) continue;
		if (request.restMethod === 'batch') {
			for (const command of Object.values(request.params.cmd as Record<string, string>)) {
				const { method, params } = parseBatchCommand(command);
				const key = callKey(method, params);
				calls.push(key);
				inBatches.set(key, (inBatches.get(key) ?? 0) + 1);
			}
			continue;
		}
		const key = callKey(request.restMethod, request.params);
		const asked = inBatches.get(key) ?? 0;
		if (asked > 0) inBatches.set(key, asked - 1);
		else calls.push(key);
	}
	return calls.sort();
}

/** What one sending mode did: the calls the portal received, and each output's items. */
export interface Observed {
	calls: string[];
	outputs: string[][];
	error?: string;
}

/** The portal numbers messages as they arrive, and calls to different chats may arrive in either order. */
const withoutMessageId = (json: IDataObject) =>
	JSON.stringify({ ...json, ...(json.messageId === undefined ? {} : { messageId: '(any)' }) });

/** Runs the case in one mode against a freshly reset portal. */
export async function observe(
	emulator: Emulator,
	parityCase: ParityCase,
	batched: boolean,
): Promise<Observed> {
	emulator.reset();
	const options = batched ? {} : { sendInBatches: false };
	const { outputs, error } = await runNode({
		credential: {
			type: 'bitrix24WebhookApi',
			// A budget that never paces: the runs are many and short.
			data: {
				webhookUrl: emulator.webhookUrl,
				botToken: SUPPORT_BOT_TOKEN,
				burstLimit: 100_000,
				requestsPerSecond: 10_000,
			},
		},
		items: parityCase.items,
		parameters: {
			...parityCase.parameters,
			[parityCase.parameters.resource === 'crmChat' ? 'options' : 'botOptions']: options,
		},
		onError: 'continueErrorOutput',
	});
	return {
		calls: callsReceived(emulator.requests),
		outputs: outputs.map((list) => list.map((item) => withoutMessageId(item.json))),
		error: error?.message,
	};
}

/** The first difference between the two modes, or undefined when there is none. */
export function difference(batch: Observed, alone: Observed): string | undefined {
	const show = (value: unknown) => JSON.stringify(value, null, 1).slice(0, 4_000);
	if (JSON.stringify(batch.calls) !== JSON.stringify(alone.calls))
		return `the portal received other calls.\nin batches: ${show(batch.calls)}\nalone: ${show(alone.calls)}`;
	if (JSON.stringify(batch.outputs) !== JSON.stringify(alone.outputs))
		return `the items ended otherwise.\nin batches: ${show(batch.outputs)}\nalone: ${show(alone.outputs)}`;
	if (batch.error !== alone.error)
		return `the run ended otherwise.\nin batches: ${batch.error}\nalone: ${alone.error}`;
	return undefined;
}

/** The property: any case, run in batches and alone, asks the portal the same and ends each item the same. */
export function parityProperty(
	emulator: Emulator,
	cases: fc.Arbitrary<ParityCase> = anyParityCase,
): fc.IAsyncPropertyWithHooks<[ParityCase]> {
	return fc.asyncProperty(cases, async (parityCase) => {
		const batch = await observe(emulator, parityCase, true);
		const alone = await observe(emulator, parityCase, false);
		const found = difference(batch, alone);
		if (found !== undefined) throw new Error(`${parityCase.name}: ${found}`);
	});
}

/** Any parameters of a call: a few names, now and then odd ones, with any values under them. */
const anyParams = fc.dictionary(
	fc.oneof(fc.constantFrom('botId', 'dialogId', 'fields', 'CHAT_ID', 'MESSAGE'), anyText),
	anyValue,
	{ maxKeys: 4 },
) as fc.Arbitrary<IDataObject>;

/**
 * The property of the command alone: a command batchFormOf calls faithful reads back (parse_str) byte for byte as
 * the call's own parameters, the bot token the webhook credential appends after it intact; what it refuses, it
 * refuses as ERROR_ARGUMENT naming the parameter.
 */
export function commandProperty(): fc.IPropertyWithHooks<[IDataObject]> {
	return fc.property(anyParams, (params) => {
		const form = batchFormOf('imbot.v2.Chat.Message.send', params);
		if (form instanceof Bitrix24Failure) {
			if (form.code !== 'ERROR_ARGUMENT' || !form.description.startsWith('The parameter '))
				throw new Error(`an unexpected refusal: ${form.message}`);
			return;
		}
		if (!form.faithful) return;
		const read = JSON.stringify(parseBatchCommand(`${form.command}&botToken=t%26k`).params);
		const sent = JSON.stringify({ ...(phpView(params as ParamValue) as object), botToken: 't&k' });
		if (read !== sent)
			throw new Error(`the command ${form.command} reads back as ${read}, not ${sent}`);
	});
}
