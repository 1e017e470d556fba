import { Bitrix24Failure, refusesEveryCall } from './errors';

/** Bitrix24's 401 codes about the access token itself (rest/lib/oauth/auth.php): a refresh can cure only these. */
const CURABLE_BY_REFRESH = new Set(['expired_token', 'invalid_token']);

const curableByRefresh = (outcome: unknown): outcome is Bitrix24Failure =>
	outcome instanceof Bitrix24Failure &&
	outcome.httpStatus === 401 &&
	CURABLE_BY_REFRESH.has(outcome.code);

/**
 * Sends a request once: `refresh` false asks n8n to hand back a 401 as an answer, true lets n8n refresh the
 * token on a 401 and send once more. Never throws.
 */
export type Attempt<T> = (refresh: boolean) => Promise<T | Bitrix24Failure>;

/**
 * The token refreshes of one OAuth2 credential in this process. n8n 1.x refreshes the token for every request
 * that got 401, each with the refresh token it read before sending, and Bitrix24 replaces the refresh token
 * on every refresh: of several requests that meet an expired token at once, only the first refresh succeeds
 * (n8n 2.x shares one refresh itself). So the node sends its OAuth2 requests with n8n's refresh off, lets one
 * request that met an expired token through n8n's refresh, holds the credential's other requests until the new
 * token is stored, and sends the ones that met the old token again: n8n reads the stored token for each request.
 * A 401 means Bitrix24 did nothing, so sending again is safe.
 */
export class TokenRefreshes {
	/** The latest refresh: settles with the credential's refusal that ended it, or undefined once it is stored. */
	private latest?: Promise<Bitrix24Failure | undefined>;

	/** The latest refresh while it is under way: requests wait for it before they leave, and share its refusal. */
	private underWay?: Promise<Bitrix24Failure | undefined>;

	async send<T>(attempt: Attempt<T>): Promise<T | Bitrix24Failure> {
		const refusal = this.underWay && (await this.underWay);
		if (refusal) return refusal;
		const before = this.latest;
		const outcome = await attempt(false);
		if (!curableByRefresh(outcome)) return outcome;
		if (this.latest === before) return await this.refreshThrough(attempt);
		// Another request refreshed the token after this one left with the old one: its outcome decides.
		return (await this.latest) ?? (await attempt(false));
	}

	/** Sends once more with n8n's refresh on; the credential's other requests wait until it is done. */
	private async refreshThrough<T>(attempt: Attempt<T>): Promise<T | Bitrix24Failure> {
		const outcome = attempt(true);
		const latest = outcome.then((settled) =>
			settled instanceof Bitrix24Failure && refusesEveryCall(settled) ? settled : undefined,
		);
		this.latest = latest;
		this.underWay = latest;
		try {
			return await outcome;
		} finally {
			if (this.underWay === latest) this.underWay = undefined;
		}
	}
}

/** One per credential and portal, shared by every item and every execution in this n8n process. */
const refreshes = new Map<string, TokenRefreshes>();

export function sharedTokenRefreshes(key: string): TokenRefreshes {
	let shared = refreshes.get(key);
	if (!shared) {
		shared = new TokenRefreshes();
		refreshes.set(key, shared);
	}
	return shared;
}
