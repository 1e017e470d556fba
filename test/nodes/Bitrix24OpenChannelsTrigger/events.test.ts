import type { IDataObject } from 'n8n-workflow';

import { eventFromWebhookBody, eventItem } from '../../../nodes/Bitrix24OpenChannelsTrigger/events';
import { eventKey } from '../../../nodes/Bitrix24OpenChannelsTrigger/verification';
import { parseWebhookBody } from '../../../nodes/Bitrix24OpenChannelsTrigger/webhookBody';

/** A form delivery's fields as the webhook nests them. */
function nested(fields: Record<string, string>): IDataObject {
	const parsed = parseWebhookBody(
		Buffer.from(new URLSearchParams(fields).toString()),
		'application/x-www-form-urlencoded',
	);
	if ('refused' in parsed) throw new Error(parsed.reason);
	return parsed.body;
}

describe('reading a delivery', () => {
	it('tolerates missing keys (nulls and empty lists are left out of the form) and non-LINES chats', () => {
		const lean = eventFromWebhookBody(
			nested({
				event: 'ONIMBOTV2MESSAGEADD',
				'data[chat][entityType]': 'LINES',
				'data[chat][id]': '1777',
				'data[message][text]': 'hi',
			}),
		);
		expect(lean && eventItem(lean)).toMatchObject({
			chatId: 1777,
			dialogId: 'chat1777',
			messageId: null,
			lineId: null,
			sessionId: null,
			crmEntityType: null,
			crmEntityId: null,
			author: { id: null, isCustomer: false },
		});
		const plainChat = eventFromWebhookBody(
			nested({
				event: 'ONIMBOTV2MESSAGEADD',
				'data[chat][entityType]': '',
			}),
		);
		expect(plainChat && eventItem(plainChat)).toBeUndefined();
		expect(eventFromWebhookBody({ event: 'x' })).toBeUndefined();
	});

	it('nests PHP form keys deeper than qs allows, past 1,000 fields, and keeps plain keys', () => {
		const fields: Record<string, string> = { event: 'ONIMBOTV2MESSAGEADD' };
		for (let row = 0; row < 1100; row++)
			fields[`data[message][params][attach][0][BLOCKS][0][GRID][${row}][NAME]`] = `row ${row}`;
		fields['auth[application_token]'] = 'last';
		const body = nested(fields);
		const grid = (((body.data as IDataObject).message as IDataObject).params as IDataObject)
			.attach as IDataObject;
		expect(JSON.stringify(grid).match(/row \d+/g)).toHaveLength(1100);
		expect(body.auth).toEqual({ application_token: 'last' });
	});

	it('refuses prototype keys, oversize bodies and other content types; nothing reaches Object.prototype', () => {
		const form = (text: string) =>
			parseWebhookBody(Buffer.from(text), 'application/x-www-form-urlencoded');
		for (const text of [
			'__proto__[pwned]=yes&event=X',
			'data[__proto__][toString]=1',
			'constructor[prototype][pwned]=yes',
			'a[b][prototype]=1',
			'%5F%5Fproto%5F%5F%5Bpwned%5D=yes',
		])
			expect(form(text)).toEqual({ refused: 400, reason: expect.stringContaining('prototype') });
		expect(
			parseWebhookBody(Buffer.from('{"__proto__":{"pwned":"yes"}}'), 'application/json'),
		).toMatchObject({ refused: 400 });
		expect(({} as IDataObject).pwned).toBeUndefined();
		expect(form('x'.repeat(1024 * 1024 + 1))).toMatchObject({ refused: 413 });
		expect(form('a=1&'.repeat(20_001))).toMatchObject({ refused: 413 });
		expect(form(`${'a'.repeat(1)}${'[b]'.repeat(20)}=1`)).toMatchObject({ refused: 400 });
		expect(parseWebhookBody(Buffer.from('<xml/>'), 'text/xml')).toMatchObject({ refused: 415 });
		expect(parseWebhookBody(undefined, 'application/json')).toMatchObject({ refused: 400 });
	});

	it('reads a chat not saved in CRM as no CRM entity, and keeps every binding of entityData2', () => {
		const event = eventFromWebhookBody(
			nested({
				event: 'ONIMBOTV2JOINCHAT',
				'data[chat][entityType]': 'LINES',
				'data[chat][id]': '5',
				'data[chat][entityId]': 'whatsapp|22|1775|599',
				'data[chat][entityData1]': 'N|NONE|0|N|N|343|1773682918|0|0|0',
				'data[chat][entityData2]': 'LEAD|0|COMPANY|12|CONTACT|77|DEAL|0',
			}),
		);
		expect(event && eventItem(event)).toMatchObject({
			event: 'dialogStarted',
			text: null,
			lineId: 22,
			connector: 'whatsapp',
			sessionId: 343,
			crmEntityType: null,
			crmBindings: { company: 12, contact: 77 },
		});
	});
});

describe('a command event', () => {
	const typed = (params: string) =>
		eventFromWebhookBody(
			nested({
				event: 'ONIMBOTV2COMMANDADD',
				'data[command][id]': '42',
				'data[command][command]': '/menu',
				'data[command][params]': params,
				'data[command][context]': 'textarea',
				'data[message][id]': '790',
				'data[message][text]': `/menu ${params}`,
				'data[chat][entityType]': 'LINES',
				'data[chat][id]': '1777',
				'data[user][id]': '599',
				'data[user][connector]': '1',
			}),
		);

	it('carries the command without its slash, its ID, parameters and context; no text', () => {
		const event = typed('2');
		expect(event && eventItem(event)).toMatchObject({
			event: 'command',
			messageId: 790,
			text: null,
			command: 'menu',
			commandId: 42,
			commandParams: '2',
			commandContext: 'textarea',
			author: { id: 599, isCustomer: true },
		});
	});

	it('is told apart from another button of the same message with the same command', () => {
		const keyOf = (params: string) => {
			const event = typed(params);
			const item = event && eventItem(event);
			if (!item) throw new Error('no item');
			return eventKey(item);
		};
		expect(keyOf('1')).not.toBe(keyOf('2'));
		expect(keyOf('1')).toBe(keyOf('1'));
	});
});
