import { DirectoryLoader } from 'n8n-core';
import {
	NodeConnectionTypes,
	NodeHelpers,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type INodeTypes,
	type IVersionedNodeType,
} from 'n8n-workflow';

import { Bitrix24OpenChannels, Bitrix24OpenChannelsTrigger } from './nodeClasses';

export const NODE_TYPE = 'n8n-nodes-bitrix24-open-channels.bitrix24OpenChannels';
export const TRIGGER_NODE_TYPE = 'n8n-nodes-bitrix24-open-channels.bitrix24OpenChannelsTrigger';
export const INPUT_NODE_TYPE = 'test.inputItems';

/** The upstream node of every test workflow: emits the items in its `items` parameter, paired like a real node. */
class InputItems implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Input Items',
		name: 'inputItems',
		group: ['input'],
		version: 1,
		description: 'Emits test items',
		usableAsTool: true,
		defaults: { name: 'Input' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [{ displayName: 'Items', name: 'items', type: 'json', default: '[]' }],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = JSON.parse(this.getNodeParameter('items', 0) as string) as Array<
			Record<string, unknown>
		>;
		return [
			items.map((json, index) => ({
				json: json as INodeExecutionData['json'],
				pairedItem: { item: index },
			})),
		];
	}
}

/** The node types n8n would load: ours as its package loader prepares it, plus the test input node. */
export function createNodeTypes(): INodeTypes {
	const bitrix24 = new Bitrix24OpenChannels();
	// n8n's loader adds the "Request Options" setting to declarative nodes; without it the setting is dropped.
	DirectoryLoader.applyDeclarativeNodeOptionParameters(bitrix24);
	const types: Record<string, INodeType | IVersionedNodeType> = {
		[NODE_TYPE]: bitrix24,
		[TRIGGER_NODE_TYPE]: new Bitrix24OpenChannelsTrigger(),
		[INPUT_NODE_TYPE]: new InputItems(),
	};
	return {
		getByName: (name) => types[name],
		getByNameAndVersion: (name, version) => NodeHelpers.getVersionedNodeType(types[name], version),
		getKnownTypes: () => ({}),
	};
}
