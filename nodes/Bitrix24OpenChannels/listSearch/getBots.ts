import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { botsMatching } from './getSenders';

/** The portal's chat bots matching the typed text: "SupportBot (bot 39)". */
export async function getBots(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	return { results: await botsMatching(this, (filter ?? '').trim(), { required: true }) };
}
