import type { IDataObject, IExecuteSingleFunctions } from 'n8n-workflow';

import {
	inputFieldSource,
	type FieldLabels,
	type FieldSource,
	type MessageRequest,
} from '../../../shared/validation';

/** The node parameter that names each Bitrix24 parameter's input field (Input: Take From Input Fields). */
const FIELD_NAME_PARAMETERS: FieldLabels = {
	CRM_ENTITY_TYPE: 'crmEntityTypeField',
	CRM_ENTITY: 'crmEntityIdField',
	USER_ID: 'userIdField',
	CHAT_ID: 'chatIdField',
	MESSAGE: 'messageField',
};

/** What a message is made of, and where its values came from, to name them in errors. */
export interface MessageInput {
	body: IDataObject;
	source?: FieldSource;
}

/**
 * The message of the item as the node's fields define it: n8n's RoutingNode resolved them into the request
 * body (`routing.send`), evaluating any expression for this item.
 */
function fromNodeFields(body: IDataObject): MessageInput {
	return { body };
}

/**
 * The message read from the item's own fields by name. The field names are plain parameters, so RoutingNode
 * evaluates no expression for the item (it only evaluates values starting with "="): the per-item cost of
 * n8n's expression engine is gone. A field the item lacks stays out of the body, for validation to name it.
 */
function fromInputFields(context: IExecuteSingleFunctions): MessageInput {
	const json = context.getInputData().json;
	const fieldNames = {} as FieldLabels;
	const body: IDataObject = {};
	for (const argument of Object.keys(FIELD_NAME_PARAMETERS) as Array<keyof MessageRequest>) {
		const fieldName = String(context.getNodeParameter(FIELD_NAME_PARAMETERS[argument], '')).trim();
		fieldNames[argument] = fieldName;
		if (Object.prototype.hasOwnProperty.call(json, fieldName)) body[argument] = json[fieldName];
	}
	return { body, source: inputFieldSource(fieldNames) };
}

/** The item's message, from the node's fields (the default) or the input item's fields. */
export function messageInputOf(context: IExecuteSingleFunctions, body: IDataObject): MessageInput {
	return context.getNodeParameter('input', 'defineBelow') === 'inputFields'
		? fromInputFields(context)
		: fromNodeFields(body);
}
