import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { Bitrix24Failure, describeFailure } from '../shared/errors';
import { METHODS } from '../shared/methods';
import { editorRequest } from '../shared/transport';
import { CRM_ENTITY_TYPES } from '../shared/validation';

/** A fixed value of a parameter, or undefined when it is an expression the editor cannot resolve. */
function fixedValue(context: ILoadOptionsFunctions, name: string): string | undefined {
	const value = context.getCurrentNodeParameter(name);
	const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
	return text === '' || text.startsWith('=') ? undefined : text;
}

/**
 * The chats of the CRM entity chosen in the node that accept messages now (their dialog is in
 * progress), named after their channel: "Telegram - chat 1341".
 */
export async function getChats(this: ILoadOptionsFunctions): Promise<INodeListSearchResult> {
	const crmEntityType = fixedValue(this, 'crmEntityType');
	const crmEntityId = fixedValue(this, 'crmEntityId');
	if (!crmEntityType || !(CRM_ENTITY_TYPES as readonly string[]).includes(crmEntityType) || !crmEntityId || !/^\d+$/.test(crmEntityId)) {
		throw new NodeOperationError(this.getNode(), 'Set a fixed CRM Entity Type and CRM Entity ID to list their chats', {
			description:
				'The list needs a real lead, deal, company or contact ID. When the ID comes from an expression, enter the chat "By ID" or choose "Active Chat of the CRM Entity" to find it at run time.',
		});
	}
	let chats: unknown;
	try {
		({ result: chats } = await editorRequest(this, METHODS.activeChats, {
			CRM_ENTITY_TYPE: crmEntityType,
			CRM_ENTITY: Number(crmEntityId),
		}));
	} catch (failure) {
		throw new NodeOperationError(this.getNode(), describeFailure(failure as Bitrix24Failure, {}));
	}
	const results = (Array.isArray(chats) ? (chats as IDataObject[]) : []).map((chat) => ({
		name: `${String(chat.CONNECTOR_TITLE || chat.CONNECTOR_ID || 'Chat')} - chat ${String(chat.CHAT_ID)}`,
		value: String(chat.CHAT_ID),
	}));
	if (results.length === 0) {
		throw new NodeOperationError(this.getNode(), `${crmEntityType} ${crmEntityId} has no chat with a dialog in progress`, {
			description:
				'Only chats an operator has taken accept messages; new, unanswered and finished dialogs are not listed.',
		});
	}
	return { results };
}
