/**
 * The error-output items engine tests expect, built once: n8n merges the input item's fields with the node's
 * `error` sentence and `details`, paired to the input item.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

/** Bitrix24's CHAT_NOT_IN_CRM for lead 1195 and chat 1400, the emulator's unlinked chat. */
export const CHAT_1400_REFUSED =
	'Bitrix24 refused the message: the chat 1400 is not linked to lead 1195 or its dialog is not in progress (CHAT_NOT_IN_CRM)';

/** The item Bitrix24 refused with CHAT_NOT_IN_CRM (chat 1400 is not lead 1195's): nothing was posted. */
export const chatNotInCrmItem = (input: IDataObject, item: number): INodeExecutionData => ({
	json: {
		...input,
		error: CHAT_1400_REFUSED,
		details: {
			code: 'CHAT_NOT_IN_CRM',
			description: 'Chat does not belong to the CRM entity being checked',
			httpStatus: 400,
			method: 'imopenlines.crm.message.add',
			delivery: 'not_sent',
		},
	},
	pairedItem: { item },
});

/** The item the node refused before sending (ERROR_ARGUMENT): `description` names the field. */
export const invalidArgumentItem = (
	input: IDataObject,
	item: number,
	argument: string,
	description: string,
): INodeExecutionData => ({
	json: {
		...input,
		error: `${description} (ERROR_ARGUMENT)`,
		details: {
			code: 'ERROR_ARGUMENT',
			description,
			httpStatus: null,
			argument,
			delivery: 'not_sent',
		},
	},
	pairedItem: { item },
});
