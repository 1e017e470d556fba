import { parseBatchCommand } from '../../../emulator/index.cjs';
import { batchCommand, batchOutcome } from '../../../../nodes/Bitrix24OpenChannels/shared/batching';
import { Bitrix24Failure } from '../../../../nodes/Bitrix24OpenChannels/shared/errors';

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
			params: { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: '1195', USER_ID: '27', CHAT_ID: '1341', MESSAGE: text },
		});
	});
});

describe('batchOutcome', () => {
	const answer = {
		result: { item0: 19880117, item2: '19880118' },
		result_error: { item1: { error: 'CHAT_NOT_IN_CRM', error_description: 'Chat does not belong to the CRM entity being checked' } },
		result_total: [],
		result_next: [],
	};

	it("maps each key to its command's result", () => {
		expect(batchOutcome(answer, 'item0')).toEqual({ result: 19880117 });
		expect(batchOutcome(answer, 'item2')).toEqual({ result: '19880118' });
	});

	it('gives a failed command the status Bitrix24 documents for its code', () => {
		const outcome = batchOutcome(answer, 'item1') as Bitrix24Failure;

		expect(outcome).toBeInstanceOf(Bitrix24Failure);
		expect(outcome.details).toEqual({
			code: 'CHAT_NOT_IN_CRM',
			description: 'Chat does not belong to the CRM entity being checked',
			httpStatus: 400,
		});
	});

	it('fails a command the answer left out', () => {
		expect((batchOutcome(answer, 'item9') as Bitrix24Failure).code).toBe('UNEXPECTED_RESPONSE');
		expect((batchOutcome([], 'item0') as Bitrix24Failure).code).toBe('UNEXPECTED_RESPONSE');
	});
});
