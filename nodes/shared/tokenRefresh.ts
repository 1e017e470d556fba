import { Bitrix24Failure, refusesEveryCall } from './errors';

/** Bitrix24's 401 codes about the access token itself (rest/lib/oauth/auth.php): what a refresh can cure. */
const CURABLE_BY_REFRESH = new Set(['expired_token', 'invalid_token']);

const curableByRefresh = (outcome: unknown): outcome is Bitrix24Failure =>
	outcome instanceof Bitrix24Failure &&
	outcome.httpStatus === 401 &&
	CURABLE_BY_REFRESH.has(outcome.code);

/**
 * Sends a request once: `refresh` true lets n8n refresh the token on a 401 and send once more, false asks n8n
 * to hand a 401 back as the answer. Never throws.
 */
export type Attempt<T> = (refresh: boolean) => Promise<T | Bitrix24Failure>;

/** Settles when a request that may refresh is done: with the credential's refusal, or undefined. */
type Done = Promise<Bitrix24Failure | undefined>;

/**
 * The token refreshes of one OAuth2 credential in this process. n8n 1.x refreshes the token for every request
 * that got 401, each with the refresh token it read before sending, and Bitrix24 replaces the refresh token on
 * every refresh: of several requests that met an expired token at once, only the first refresh succeeded (n8n
 * 2.x shares one refresh itself). So one request of the credential at a time may refresh; the others meanwhile
 * have n8n hand a 401 back. Those that met an expired token wait for the request that may refresh (the
 * credential's new requests wait with them) and are then sent again: n8n reads the stored token for every
 * request. A 401 means Bitrix24 did nothing, so sending again is safe.
 */
export class TokenRefreshes {
	/** The request that may refresh, while it is on its way. */
	private refresher?: Done;

	/** Set once a request met an expired token while the refresher was on its way: new requests wait for it. */
	private held?: Done;

	async send<T>(attempt: Attempt<T>): Promise<T | Bitrix24Failure> {
		for (let metExpired = false; ; metExpired = true) {
			const heldBy = this.held && (await this.held);
			if (heldBy) return heldBy;
			if (this.refresher === undefined) return await this.sendAsRefresher(attempt, metExpired);
			const outcome = await attempt(false);
			if (!curableByRefresh(outcome)) return outcome;
			// With no request on its way that may refresh, this one goes round to be it.
			const refresher = this.refresher;
			if (refresher === undefined) continue;
			if (this.held === undefined) this.hold(refresher);
			const refusal = await refresher;
			if (refusal) return refusal;
		}
	}

	/** Sends with n8n's refresh on; when the token is known to have expired, the others wait for it. */
	private async sendAsRefresher<T>(
		attempt: Attempt<T>,
		expired: boolean,
	): Promise<T | Bitrix24Failure> {
		const outcome = attempt(true);
		const done: Done = outcome.then((settled) =>
			settled instanceof Bitrix24Failure && refusesEveryCall(settled) ? settled : undefined,
		);
		this.refresher = done;
		if (expired) this.hold(done);
		try {
			return await outcome;
		} finally {
			if (this.refresher === done) this.refresher = undefined;
		}
	}

	/** New requests wait until `refresher` is done. */
	private hold(refresher: Done): void {
		this.held = refresher;
		void refresher.then(() => {
			if (this.held === refresher) this.held = undefined;
		});
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
