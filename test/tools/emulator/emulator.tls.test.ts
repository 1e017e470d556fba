/**
 * `startEmulator({ tls })`: the portal over HTTPS with a test certificate, checked by Node's own TLS client.
 */
import { ADMIN_USER_ID, startEmulator, type TlsProfile } from '../../../tools/emulator';
import {
	httpsGet,
	readTestCa,
	type HttpResult,
	type HttpsOptions,
} from '../../../tools/emulator/testClient';

const ca = readTestCa();

/** Start an emulator with this certificate, call `user.current` on its webhook, close it. */
async function userCurrent(profile: TlsProfile, tls?: HttpsOptions): Promise<HttpResult> {
	const emu = await startEmulator({ tls: profile });
	try {
		return await httpsGet(`${emu.webhookUrl}user.current`, tls);
	} finally {
		await emu.close();
	}
}

// `npm test` trusts the test CA process-wide (NODE_EXTRA_CA_CERTS, which Node adds even to an explicit `ca`), so
// the cases below are the ones that fail whatever the client trusts.
describe('TLS', () => {
	it('valid, with the test CA trusted: HTTPS URLs and a 200 JSON answer', async () => {
		const emu = await startEmulator({ tls: 'valid' });
		try {
			expect(emu.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
			for (const url of [emu.webhookUrl, emu.limitedWebhookUrl, emu.tokenUrl, emu.authorizeUrl])
				expect(url.startsWith(`${emu.baseUrl}/`)).toBe(true);
			const res = await httpsGet(`${emu.webhookUrl}user.current`, { ca });
			expect(res.status).toBe(200);
			expect(res.headers.get('content-type')).toMatch(/^application\/json/);
			expect(res.body).toMatchObject({ result: { ID: String(ADMIN_USER_ID) } });
			expect(emu.requests).toEqual([expect.objectContaining({ restMethod: 'user.current' })]);
		} finally {
			await emu.close();
		}
	});

	it('valid also names localhost', async () => {
		expect((await userCurrent('valid', { ca, servername: 'localhost' })).status).toBe(200);
	});

	it.each([
		['selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
		['unknownCa', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
		['wrongHost', 'ERR_TLS_CERT_ALTNAME_INVALID'],
	] as const)('%s fails with %s even with the test CA trusted', async (profile, code) => {
		await expect(userCurrent(profile, { ca })).rejects.toMatchObject({ code });
	});

	it('wrongHost is signed by the test CA: a client expecting portal.example accepts it', async () => {
		const res = await userCurrent('wrongHost', { ca, servername: 'portal.example' });
		expect(res.status).toBe(200);
	});

	it('a refused certificate never reaches the portal', async () => {
		const emu = await startEmulator({ tls: 'selfSigned' });
		try {
			await expect(httpsGet(`${emu.webhookUrl}user.current`, { ca })).rejects.toThrow();
			expect(emu.requests).toHaveLength(0);
		} finally {
			await emu.close();
		}
	});
});
