import { NodeOperationError } from 'n8n-workflow';
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { Bitrix24Failure, describeFailure } from '../errors';
import { METHODS } from '../methods';
import { editorRequest } from '../transport';

/** An open channel as imopenlines.config.list.get gives it (values are strings). */
interface LineConfig {
	ID: string;
	LINE_NAME?: string;
	ACTIVE?: string;
}

/**
 * The portal's open channels (lines), "Customer support (line 1)", switched-off ones marked; searchable by name.
 * Both nodes list them: the trigger to attach its bot, Bot Dialog > Transfer to pick a target line.
 */
export async function getOpenChannels(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	let answer: Awaited<ReturnType<typeof editorRequest>>;
	try {
		answer = await editorRequest(this, METHODS.listOpenChannels, {
			PARAMS: { select: ['ID', 'LINE_NAME', 'ACTIVE'], order: { ID: 'ASC' }, limit: 200 },
		});
	} catch (failure) {
		throw new NodeOperationError(this.getNode(), describeFailure(failure as Bitrix24Failure, {}));
	}
	const lines = Array.isArray(answer.result) ? (answer.result as LineConfig[]) : [];
	const needle = (filter ?? '').trim().toLowerCase();
	return {
		results: lines
			.filter(
				(line) =>
					needle === '' ||
					String(line.LINE_NAME ?? '')
						.toLowerCase()
						.includes(needle),
			)
			.map((line) => ({
				name: `${String(line.LINE_NAME || 'Open channel')} (line ${line.ID})${line.ACTIVE === 'N' ? ', switched off' : ''}`,
				value: String(line.ID),
				// The channel's settings page in Contact Center.
				url: `${answer.origin}/contact_center/openlines_edit/?ID=${line.ID}`,
			})),
	};
}
