import { NodeOperationError } from 'n8n-workflow';
import type {
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import { Bitrix24Failure, describeFailure } from '../../shared/errors';
import { METHODS } from '../../shared/methods';
import { editorRequest } from '../../shared/transport';

/** A user as `user.search` returns one (the fields the list shows). */
interface BitrixUser {
	ID: string;
	NAME?: string;
	LAST_NAME?: string;
	EMAIL?: string;
}

/** A bot as `imbot.bot.list` returns one. */
interface BitrixBot {
	ID: string | number;
	NAME?: string;
}

function editorError(
	context: ILoadOptionsFunctions,
	failure: unknown,
	scope: string,
): NodeOperationError {
	return new NodeOperationError(
		context.getNode(),
		describeFailure(failure as Bitrix24Failure, { scope }),
	);
}

/**
 * The portal's bots matching the filter; none when the credential may not list bots (no imbot scope), unless
 * bots are what the list is for (`required`).
 */
export async function botsMatching(
	context: ILoadOptionsFunctions,
	filter: string,
	{ required = false } = {},
): Promise<INodeListSearchItems[]> {
	let bots: unknown;
	try {
		({ result: bots } = await editorRequest(context, METHODS.listBots, {}));
	} catch (failure) {
		// Bots are an extra in the Sender list: a credential without the imbot scope still lists users.
		if ((failure as Bitrix24Failure).code === 'insufficient_scope' && !required) return [];
		throw editorError(context, failure, 'imbot');
	}
	// An object keyed by bot ID, or [] when the portal has none.
	return Object.values(
		typeof bots === 'object' && bots !== null ? (bots as Record<string, BitrixBot>) : {},
	)
		.filter((bot) =>
			String(bot.NAME ?? '')
				.toLowerCase()
				.includes(filter.toLowerCase()),
		)
		.map((bot) => ({ name: `${String(bot.NAME)} (bot ${String(bot.ID)})`, value: String(bot.ID) }));
}

/** A page (50) of active users matching the text, each linked to their profile in Bitrix24: "Oleg Operator (user 27)". */
export async function usersMatching(
	context: ILoadOptionsFunctions,
	text: string,
	start: number,
): Promise<{ users: INodeListSearchItems[]; next?: number }> {
	let page: Awaited<ReturnType<typeof editorRequest>>;
	try {
		page = await editorRequest(context, METHODS.searchUsers, {
			FILTER: { FIND: text, ACTIVE: true },
			start,
		});
	} catch (failure) {
		throw editorError(context, failure, 'user');
	}
	const users = (Array.isArray(page.result) ? (page.result as BitrixUser[]) : []).map((user) => {
		const name =
			[user.NAME, user.LAST_NAME].filter(Boolean).join(' ') || String(user.EMAIL ?? 'User');
		return {
			name: `${name} (user ${String(user.ID)})`,
			value: String(user.ID),
			url: `${page.origin}/company/personal/user/${String(user.ID)}/`,
		};
	});
	return { users, next: page.next };
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
	const { users, next } = await usersMatching(this, text, Number(paginationToken ?? 0));
	const morePages = next !== undefined;
	// Bots come once, after the last page of users.
	const bots = morePages ? [] : await botsMatching(this, text);
	return {
		results: [...users, ...bots],
		paginationToken: morePages ? String(next) : undefined,
	};
}
