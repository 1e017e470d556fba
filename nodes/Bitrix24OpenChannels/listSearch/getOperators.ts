import { NodeOperationError } from 'n8n-workflow';
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { describeFailure, type Bitrix24Failure } from '../../shared/errors';
import { METHODS } from '../../shared/methods';
import { editorRequest } from '../../shared/transport';

/** Active employees matching the typed text (a page of 50 at a time): who may take a transferred dialog. */
export async function getOperators(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	let page: Awaited<ReturnType<typeof editorRequest>>;
	try {
		page = await editorRequest(this, METHODS.searchUsers, {
			FILTER: { FIND: (filter ?? '').trim(), ACTIVE: true },
			start: Number(paginationToken ?? 0),
		});
	} catch (failure) {
		throw new NodeOperationError(
			this.getNode(),
			describeFailure(failure as Bitrix24Failure, { scope: 'user' }),
		);
	}
	const users = Array.isArray(page.result) ? (page.result as Array<Record<string, unknown>>) : [];
	return {
		results: users.map((user) => {
			const name =
				[user.NAME, user.LAST_NAME].filter(Boolean).join(' ') || String(user.EMAIL ?? 'User');
			return {
				name: `${name} (user ${String(user.ID)})`,
				value: String(user.ID),
				url: `${page.origin}/company/personal/user/${String(user.ID)}/`,
			};
		}),
		paginationToken: page.next !== undefined ? String(page.next) : undefined,
	};
}
