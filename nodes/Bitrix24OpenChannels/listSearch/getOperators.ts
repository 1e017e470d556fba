import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { usersMatching } from './getSenders';

/** Active employees matching the typed text (a page of 50 at a time): who may take a transferred dialog. */
export async function getOperators(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const { users, next } = await usersMatching(
		this,
		(filter ?? '').trim(),
		Number(paginationToken ?? 0),
	);
	return { results: users, paginationToken: next !== undefined ? String(next) : undefined };
}
