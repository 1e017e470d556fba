/** Reading the portal's record: every message it was asked to post, alone or as a command of a batch call. */
import { parseBatchCommand } from './batch';
import type { ParamRecord } from './params';
import type { RecordedRequest } from './types';

const SEND = 'imopenlines.crm.message.add';

/** The parameters of every call of `method` (any case) asked for, alone or inside a batch, in arrival order. */
export function callsAsked(requests: readonly RecordedRequest[], method: string): ParamRecord[] {
	const wanted = method.toLowerCase();
	return requests.flatMap((request) => {
		if (request.restMethod === wanted) return [request.params];
		if (request.restMethod !== 'batch') return [];
		return Object.values(request.params.cmd as Record<string, string>)
			.map((command) => parseBatchCommand(command))
			.filter(({ method: name }) => name.toLowerCase() === wanted)
			.map(({ params }) => params);
	});
}

/** The parameters of every `imopenlines.crm.message.add` asked for, alone or inside a batch, in arrival order. */
export function postsAsked(requests: readonly RecordedRequest[]): ParamRecord[] {
	return callsAsked(requests, SEND);
}

/** How many times the portal was asked to post each text. */
export function timesAsked(requests: readonly RecordedRequest[]): Map<string, number> {
	const asked = new Map<string, number>();
	for (const { MESSAGE } of postsAsked(requests))
		asked.set(String(MESSAGE), (asked.get(String(MESSAGE)) ?? 0) + 1);
	return asked;
}

/** The REST calls among the recorded requests (not OAuth, not the control API), from the `from`-th request on. */
export function restCallsOf(requests: readonly RecordedRequest[], from = 0): RecordedRequest[] {
	return requests.slice(from).filter((request) => request.restMethod !== null);
}

/** The calls to the OAuth token endpoint among the recorded requests, from the `from`-th request on. */
export function tokenCallsOf(requests: readonly RecordedRequest[], from = 0): RecordedRequest[] {
	return requests.slice(from).filter((request) => request.path.startsWith('/oauth/token'));
}
