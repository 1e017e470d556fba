import { NodeOperationError } from 'n8n-workflow';
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { describeFailure, type Bitrix24Failure } from '../../shared/errors';
import { METHODS } from '../../shared/methods';
import { editorRequest } from '../../shared/transport';

/** The portal's active open channels (lines): "Sales (open channel 7)". */
export async function getOpenChannels(this: ILoadOptionsFunctions): Promise<INodeListSearchResult> {
	let lines: unknown;
	try {
		({ result: lines } = await editorRequest(this, METHODS.listOpenChannels, {
			PARAMS: { select: ['ID', 'LINE_NAME'], filter: { ACTIVE: 'Y' }, order: { ID: 'ASC' } },
		}));
	} catch (failure) {
		throw new NodeOperationError(this.getNode(), describeFailure(failure as Bitrix24Failure, {}));
	}
	return {
		results: (Array.isArray(lines) ? (lines as Array<Record<string, unknown>>) : []).map(
			(line) => ({
				name: `${String(line.LINE_NAME)} (open channel ${String(line.ID)})`,
				value: String(line.ID),
			}),
		),
	};
}
