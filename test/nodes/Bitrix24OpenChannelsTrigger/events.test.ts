import {
	eventFromWebhookBody,
	eventItem,
	nestPhpKeys,
} from '../../../nodes/Bitrix24OpenChannelsTrigger/events';

describe('reading a delivery', () => {
	it('nests PHP form keys n8n hands over flat, deeper than qs allows, and keeps plain keys', () => {
		expect(
			nestPhpKeys({
				event: 'ONIMBOTV2MESSAGEADD',
				'data[message][params][attach][0][BLOCKS][0][GRID][0][NAME]': 'deep',
				'data[chat][id]': '1777',
				ts: '1773683000',
			}),
		).toEqual({
			event: 'ONIMBOTV2MESSAGEADD',
			data: {
				message: {
					params: { attach: { 0: { BLOCKS: { 0: { GRID: { 0: { NAME: 'deep' } } } } } } },
				},
				chat: { id: '1777' },
			},
			ts: '1773683000',
		});
	});

	it('tolerates missing keys (nulls and empty lists are left out of the form) and non-LINES chats', () => {
		const lean = eventFromWebhookBody({
			event: 'ONIMBOTV2MESSAGEADD',
			'data[chat][entityType]': 'LINES',
			'data[chat][id]': '1777',
			'data[message][text]': 'hi',
		});
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
		const plainChat = eventFromWebhookBody({
			event: 'ONIMBOTV2MESSAGEADD',
			'data[chat][entityType]': '',
		});
		expect(plainChat && eventItem(plainChat)).toBeUndefined();
		expect(eventFromWebhookBody({ event: 'x' })).toBeUndefined();
	});

	it('reads a chat not saved in CRM as no CRM entity, and keeps every binding of entityData2', () => {
		const event = eventFromWebhookBody({
			event: 'ONIMBOTV2JOINCHAT',
			'data[chat][entityType]': 'LINES',
			'data[chat][id]': '5',
			'data[chat][entityId]': 'whatsapp|22|1775|599',
			'data[chat][entityData1]': 'N|NONE|0|N|N|343|1773682918|0|0|0',
			'data[chat][entityData2]': 'LEAD|0|COMPANY|12|CONTACT|77|DEAL|0',
		});
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
