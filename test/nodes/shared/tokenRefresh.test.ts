import { sleep } from 'n8n-workflow';

import { Bitrix24Failure } from '../../../nodes/shared/errors';
import { TokenRefreshes, type Attempt } from '../../../nodes/shared/tokenRefresh';

/**
 * A credential as n8n 1.x uses it against a Bitrix24 portal: every request reads the stored token pair before
 * it leaves; on a 401 n8n refreshes with the refresh token it read (unless told to hand the 401 back), stores
 * the new pair and sends once more. The portal rotates the refresh token on every refresh.
 */
class OneXCredential {
	stored = { access: 'a0', refresh: 'r0' };
	private valid = { access: 'a1-not-yet-issued', refresh: 'r0' };
	refreshes: Array<'ok' | 'invalid_grant'> = [];
	sent: string[] = [];

	attempt(): Attempt<string> {
		return async (refresh) => {
			const read = { ...this.stored };
			this.sent.push(read.access);
			await sleep(5);
			if (read.access === this.valid.access) return 'posted';
			const expired = new Bitrix24Failure(
				'expired_token',
				'The access token provided has expired',
				401,
			);
			if (!refresh) return expired;
			await sleep(5);
			if (read.refresh !== this.valid.refresh) {
				this.refreshes.push('invalid_grant');
				return new Bitrix24Failure(
					'CREDENTIAL_ERROR',
					'The provided authorization grant is invalid',
					null,
				);
			}
			const n = this.refreshes.push('ok');
			this.valid = { access: `a${n}`, refresh: `r${n}` };
			this.stored = { ...this.valid };
			this.sent.push(this.valid.access);
			return 'posted';
		};
	}
}

describe('TokenRefreshes', () => {
	it('refreshes once for requests that meet an expired token at once, and sends them again with the new token', async () => {
		const credential = new OneXCredential();
		const refreshes = new TokenRefreshes();

		const outcomes = await Promise.all(
			[1, 2, 3, 4].map(async () => await refreshes.send(credential.attempt())),
		);

		expect(outcomes).toEqual(['posted', 'posted', 'posted', 'posted']);
		expect(credential.refreshes).toEqual(['ok']);
		// Four met the old token, one went through the refresh, the other three were sent again after it.
		expect(credential.sent.filter((token) => token === 'a0')).toHaveLength(5);
		expect(credential.sent.filter((token) => token === 'a1')).toHaveLength(4);
	});

	it('holds a request that comes while the refresh is under way until the new token is stored', async () => {
		const credential = new OneXCredential();
		const refreshes = new TokenRefreshes();

		const first = refreshes.send(credential.attempt());
		await sleep(7); // the first request's 401 is back: its refresh is under way
		const later = refreshes.send(credential.attempt());

		expect(await Promise.all([first, later])).toEqual(['posted', 'posted']);
		expect(credential.refreshes).toEqual(['ok']);
		expect(credential.sent).toEqual(['a0', 'a0', 'a1', 'a1']);
	});

	it("gives the requests that waited the refresh's refusal, without a refresh of their own", async () => {
		const credential = new OneXCredential();
		credential.stored.refresh = 'revoked';
		const refreshes = new TokenRefreshes();

		const outcomes = await Promise.all(
			[1, 2, 3].map(async () => await refreshes.send(credential.attempt())),
		);

		expect(outcomes.map((outcome) => (outcome as Bitrix24Failure).code)).toEqual([
			'CREDENTIAL_ERROR',
			'CREDENTIAL_ERROR',
			'CREDENTIAL_ERROR',
		]);
		expect(credential.refreshes).toEqual(['invalid_grant']);
	});

	it('hands back a 401 that a refresh cannot cure, without refreshing', async () => {
		const refreshes = new TokenRefreshes();
		const plan = new Bitrix24Failure(
			'ACCESS_DENIED',
			'REST is available only on commercial plans.',
			401,
		);
		const asked: boolean[] = [];

		const outcome = await refreshes.send(async (refresh) => {
			asked.push(refresh);
			return plan;
		});

		expect(outcome).toBe(plan);
		expect(asked).toEqual([false]);
	});
});
