/** The listening server: plain HTTP, or HTTPS with a test certificate from ./tls (see tls/README.md). */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';

/** Which certificate the portal presents; each but `valid` fails verification in its own way. */
export type TlsProfile = 'valid' | 'selfSigned' | 'unknownCa' | 'wrongHost';

/** The test CA that signed the `valid` and `wrongHost` certificates: trust it to accept `valid`. */
export const TEST_CA_PATH = join(__dirname, 'tls', 'ca.pem');

/** Per profile, the stem of `tls/<stem>.pem` (certificate) and `tls/<stem>-key.pem` (its key). */
const CERTIFICATE_FILES: Readonly<Record<TlsProfile, string>> = {
	valid: 'valid',
	selfSigned: 'self-signed',
	unknownCa: 'unknown-ca',
	wrongHost: 'wrong-host',
};

const tlsFile = (name: string): Buffer => readFileSync(join(__dirname, 'tls', name));

export function createPortalServer(tls: TlsProfile | undefined, listener: RequestListener): Server {
	if (tls === undefined) return createHttpServer(listener);
	const stem = CERTIFICATE_FILES[tls];
	return createHttpsServer(
		{ cert: tlsFile(`${stem}.pem`), key: tlsFile(`${stem}-key.pem`) },
		listener,
	);
}
