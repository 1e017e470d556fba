import { ExecutionLifecycleHooks, LoadOptionsContext } from 'n8n-core';
import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type INode,
	type INodeListSearchResult,
	type INodeParameters,
	type IWorkflowBase,
} from 'n8n-workflow';

import { Bitrix24OpenChannels } from './nodeClasses';
import { TestCredentialsHelper } from './credentialsHelper';
import { createNodeTypes, NODE_TYPE } from './nodeTypes';
import { additionalDataFor } from './runWorkflow';

export interface ListSearchOptions {
	/** The node's parameters as the editor holds them while the user edits. */
	parameters: INodeParameters;
	credential: {
		type: 'bitrix24WebhookApi' | 'bitrix24OAuth2Api';
		data: ICredentialDataDecryptedObject;
	};
	filter?: string;
	paginationToken?: string;
}

/**
 * Opens a resource locator's "From list" the way n8n's editor backend does: the node's listSearch
 * method called with a real LoadOptionsContext over the parameters being edited.
 */
export async function searchList(
	method: keyof typeof Bitrix24OpenChannels.prototype.methods.listSearch,
	options: ListSearchOptions,
): Promise<INodeListSearchResult> {
	const credentials = new TestCredentialsHelper();
	credentials.stored.set(credentials.credentialId, structuredClone(options.credential.data));
	const node: INode = {
		id: 'bitrix24',
		name: 'Bitrix24 Open Channels',
		type: NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			authentication: options.credential.type === 'bitrix24OAuth2Api' ? 'oAuth2' : 'webhook',
			resource: 'crmChat',
			operation: 'sendMessage',
			...options.parameters,
		},
		credentials: {
			[options.credential.type]: { id: credentials.credentialId, name: 'Bitrix24 test credential' },
		},
	};
	const workflowData = { id: 'list-search', name: 'List search', nodes: [node], connections: {} };
	const workflow = new Workflow({ ...workflowData, active: false, nodeTypes: createNodeTypes() });
	const hooks = new ExecutionLifecycleHooks(
		'internal',
		'list-search',
		workflowData as unknown as IWorkflowBase,
	);
	const additionalData = {
		...additionalDataFor(credentials, hooks),
		currentNodeParameters: node.parameters,
	};
	const context = new LoadOptionsContext(
		workflow,
		node,
		additionalData,
		`parameters.${method === 'getChats' ? 'chatId' : 'userId'}`,
	);
	return await new Bitrix24OpenChannels().methods.listSearch[method].call(
		context,
		options.filter,
		options.paginationToken,
	);
}
