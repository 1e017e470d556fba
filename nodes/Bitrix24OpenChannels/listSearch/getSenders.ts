import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, ILoadOptionsFunctions, INodeListSearchItems, INodeListSearchResult } from 'n8n-workflow';

import { Bitrix24Failure, describeFailure } from '../shared/errors';
import { METHODS } from '../shared/methods';
import { editorRequest } from '../shared/transport';

function editorError(context: ILoadOptionsFunctions, failure: unknown, scope: string): NodeOperationError {
	return new NodeOperationError(context.getNode(), describeFailure(failure as Bitrix24Failure, { scope }));
}

/** The portal's bots matching the filter; none when the credential may not list bots (no imbot scope). */
async function botsMatching(context: ILoadOptionsFunctions, filter: string): Promise<INodeListSearchItems[]> {
	let bots: unknown;
	try {
		({ result: bots } = await editorRequest(context, METHODS.listBots, {}));
	} catch (failure) {
		// Bots are an extra: a credential without the imbot scope still lists users.
		if ((failure as Bitrix24Failure).code === 'insufficient_scope') return [];
		throw editorError(context, failure, 'imbot');
	}
	// An object keyed by bot ID, or [] when the portal has none.
	return Object.values(typeof bots === 'object' && bots !== null ? (bots as Record<string, IDataObject>) : {})
		.filter((bot) => String(bot.NAME ?? '').toLowerCase().includes(filter.toLowerCase()))
		.map((bot) => ({ name: `${String(bot.NAME)} (bot ${String(bot.ID)})`, value: String(bot.ID) }));
}

/**
 * Active users matching the typed text (a page of 50 at a time), then the portal's bots, labelled so a
 * person can tell them apart: "Oleg Operator (user 27)", "SupportBot (bot 39)".
 */
export async function getSenders(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const text = (filter ?? '').trim();
	const start = Number(paginationToken ?? 0);
	let page: IDataObject;
	try {
		page = await editorRequest(this, METHODS.searchUsers, { FILTER: { FIND: text, ACTIVE: true }, start });
	} catch (failure) {
		throw editorError(this, failure, 'user');
	}
	const users = (Array.isArray(page.result) ? (page.result as IDataObject[]) : []).map((user) => {
		const name = [user.NAME, user.LAST_NAME].filter(Boolean).join(' ') || String(user.EMAIL ?? 'User');
		return { name: `${name} (user ${String(user.ID)})`, value: String(user.ID) };
	});
	const morePages = typeof page.next === 'number';
	// Bots come once, after the last page of users.
	const bots = morePages ? [] : await botsMatching(this, text);
	return {
		results: [...users, ...bots],
		paginationToken: morePages ? String(page.next) : undefined,
	};
}
