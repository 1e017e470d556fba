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
	/** Each request's label and the access token it carried. */
	sent: Array<[string, string]> = [];

	attempt(label: string): Attempt<string> {
		return async (refresh) => {
			const read = { ...this.stored };
			this.sent.push([label, read.access]);
			await sleep(5);
			if (read.access === this.valid.access) return 'posted';
			if (!refresh)
				return new Bitrix24Failure('expired_token', 'The access token provided has expired', 401);
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
			this.sent.push([label, this.valid.access]);
			return 'posted';
		};
	}

	tokensOf(label: string): string[] {
		return this.sent.filter(([sender]) => sender === label).map(([, token]) => token);
	}
}

describe('TokenRefreshes', () => {
	it('lets one of the requests that meet an expired token at once refresh it, and sends the others again with the new token', async () => {
		const credential = new OneXCredential();
		const refreshes = new TokenRefreshes();

		const outcomes = await Promise.all(
			['A', 'B', 'C', 'D'].map(async (label) => await refreshes.send(credential.attempt(label))),
		);

		expect(outcomes).toEqual(['posted', 'posted', 'posted', 'posted']);
		expect(credential.refreshes).toEqual(['ok']);
		for (const label of ['A', 'B', 'C', 'D'])
			expect(credential.tokensOf(label)).toEqual(['a0', 'a1']);
	});

	it('holds the requests that come once a request met the expired token, until the refresh has landed', async () => {
		const credential = new OneXCredential();
		const refreshes = new TokenRefreshes();

		const first = refreshes.send(credential.attempt('A'));
		await sleep(2);
		const second = refreshes.send(credential.attempt('B'));
		await sleep(6); // B's 401 is back; A's refresh is under way
		const third = refreshes.send(credential.attempt('C'));

		expect(await Promise.all([first, second, third])).toEqual(['posted', 'posted', 'posted']);
		expect(credential.refreshes).toEqual(['ok']);
		expect(credential.tokensOf('B')).toEqual(['a0', 'a1']);
		expect(credential.tokensOf('C')).toEqual(['a1']);
	});

	it('refreshes once when the token expires under requests sent while an earlier request was on its way', async () => {
		const credential = new OneXCredential();
		const refreshes = new TokenRefreshes();
		let release = () => {};
		// Sent before the token expired; it may refresh, but by the time the others meet the 401 it is done.
		const earlier = refreshes.send(async () => {
			await new Promise<void>((resolve) => (release = resolve));
			return 'posted';
		});
		const later = ['B', 'C', 'D'].map(
			async (label) => await refreshes.send(credential.attempt(label)),
		);
		await sleep(7); // their 401s are back, waiting for the earlier request
		release();

		expect(await Promise.all([earlier, ...later])).toEqual([
			'posted',
			'posted',
			'posted',
			'posted',
		]);
		expect(credential.refreshes).toEqual(['ok']);
		// One of them went round to refresh (meeting the old token once more first); the others were sent again
		// once the new token was stored.
		expect(['B', 'C', 'D'].map((label) => credential.tokensOf(label)).sort()).toEqual([
			['a0', 'a0', 'a1'],
			['a0', 'a1'],
			['a0', 'a1'],
		]);
	});

	it("gives the requests that waited the refresh's refusal, without a refresh of their own", async () => {
		const credential = new OneXCredential();
		credential.stored.refresh = 'revoked';
		const refreshes = new TokenRefreshes();

		const outcomes = await Promise.all(
			['A', 'B', 'C'].map(async (label) => await refreshes.send(credential.attempt(label))),
		);

		expect(outcomes.map((outcome) => (outcome as Bitrix24Failure).code)).toEqual([
			'CREDENTIAL_ERROR',
			'CREDENTIAL_ERROR',
			'CREDENTIAL_ERROR',
		]);
		expect(credential.refreshes).toEqual(['invalid_grant']);
	});

	it("leaves a lone request to n8n's own refresh, whatever its 401", async () => {
		const refreshes = new TokenRefreshes();
		const asked: boolean[] = [];

		await refreshes.send(async (refresh) => {
			asked.push(refresh);
			return 'posted';
		});

		expect(asked).toEqual([true]);
	});

	it('hands back at once a 401 that a refresh cannot cure, while another request may refresh', async () => {
		const refreshes = new TokenRefreshes();
		let release = () => {};
		const first = refreshes.send(async () => {
			await new Promise<void>((resolve) => (release = resolve));
			return 'posted';
		});
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
		release();

		expect(outcome).toBe(plan);
		expect(asked).toEqual([false]);
		expect(await first).toBe('posted');
	});
});
