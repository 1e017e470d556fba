import { NodeOperationError } from 'n8n-workflow';
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { Bitrix24Failure, describeFailure } from '../../shared/errors';
import { METHODS } from '../../shared/methods';
import { editorRequest } from '../../shared/transport';
import { crmEntityTypeOf, positiveIdOf } from '../../shared/validation';

/** A chat as `imopenlines.crm.chat.get` returns one (the fields the list shows). */
interface CrmChat {
	CHAT_ID: string | number;
	CONNECTOR_ID?: string;
	CONNECTOR_TITLE?: string;
}

/** A fixed value of a parameter, or undefined when it is an expression the editor cannot resolve. */
function fixedValue(context: ILoadOptionsFunctions, name: string): unknown {
	const value = context.getCurrentNodeParameter(name);
	return typeof value === 'string' && value.trim().startsWith('=') ? undefined : value;
}

/**
 * The chats of the CRM entity chosen in the node that accept messages now (their dialog is in
 * progress), named after their channel: "Telegram - chat 1341".
 */
export async function getChats(this: ILoadOptionsFunctions): Promise<INodeListSearchResult> {
	const crmEntityType = crmEntityTypeOf(fixedValue(this, 'crmEntityType'));
	const crmEntityId = positiveIdOf(fixedValue(this, 'crmEntityId'));
	if (crmEntityType === undefined || crmEntityId === undefined) {
		throw new NodeOperationError(
			this.getNode(),
			'Set a fixed CRM Entity Type and CRM Entity ID to list their chats',
			{
				description:
					'The list needs a real lead, deal, company or contact ID. When the ID comes from an expression, enter the chat "By ID" or choose "Active Chat of the CRM Entity" to find it at run time.',
			},
		);
	}
	let answer: Awaited<ReturnType<typeof editorRequest>>;
	try {
		answer = await editorRequest(this, METHODS.activeChats, {
			CRM_ENTITY_TYPE: crmEntityType,
			CRM_ENTITY: crmEntityId,
		});
	} catch (failure) {
		throw new NodeOperationError(this.getNode(), describeFailure(failure as Bitrix24Failure, {}));
	}
	const chats = Array.isArray(answer.result) ? (answer.result as CrmChat[]) : [];
	const results = chats.map((chat) => ({
		name: `${String(chat.CONNECTOR_TITLE || chat.CONNECTOR_ID || 'Chat')} - chat ${String(chat.CHAT_ID)}`,
		value: String(chat.CHAT_ID),
		// Opens the dialog in Bitrix24's messenger.
		url: `${answer.origin}/online/?IM_DIALOG=chat${String(chat.CHAT_ID)}`,
	}));
	if (results.length === 0) {
		throw new NodeOperationError(
			this.getNode(),
			`${crmEntityType} ${crmEntityId} has no chat with a dialog in progress`,
			{
				description:
					'Only chats an operator has taken accept messages; new, unanswered and finished dialogs are not listed.',
			},
		);
	}
	return { results };
}
