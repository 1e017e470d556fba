import { Bitrix24Failure } from './errors';

/** `/rest/<user id>/<code>` with an optional method name after it (`profile.json`, `user.current`...). */
const WEBHOOK_PATH = /^(.*?\/rest\/\d+\/[A-Za-z0-9_]+)(?:\/[A-Za-z0-9_.]*)?\/*$/;

/** Hosts where plain http is acceptable: the machine itself and private networks (on-premise, tests). */
const PRIVATE_HOSTS = [
	/^localhost$/,
	/\.localhost$/,
	/\.local$/,
	/^127\.\d+\.\d+\.\d+$/,
	/^10\.\d+\.\d+\.\d+$/,
	/^192\.168\.\d+\.\d+$/,
	/^172\.(1[6-9]|2\d|3[01])\.\d+\.\d+$/,
	/^169\.254\.\d+\.\d+$/,
	/^\[::1\]$/,
	/^\[f[cd][0-9a-f]{2}:/,
];

function invalidUrl(problem: string): Bitrix24Failure {
	return new Bitrix24Failure('INVALID_WEBHOOK_URL', `The Webhook URL ${problem}`, null);
}

/**
 * Turns the inbound webhook URL as Bitrix24 shows it into the REST base the method names are
 * appended to. Errors say what is wrong with the URL but never repeat it: it contains the secret code.
 */
export function webhookRestBase(webhookUrl: unknown): string {
	const text = typeof webhookUrl === 'string' ? webhookUrl.trim() : '';
	if (text === '') throw invalidUrl('is empty: paste the inbound webhook URL from Bitrix24');
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw invalidUrl(
			'is not a valid URL: it should look like https://yourcompany.bitrix24.com/rest/1/abc123xyz/',
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw invalidUrl(`must start with https:// (it starts with ${url.protocol}//)`);
	}
	if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
		throw invalidUrl(
			'must end after the webhook code: remove the query string, # part or user name',
		);
	}
	const match = WEBHOOK_PATH.exec(url.pathname);
	if (!match) {
		throw invalidUrl(
			'does not have the shape of a Bitrix24 inbound webhook: its path must be /rest/<user id>/<webhook code>/',
		);
	}
	if (!httpAllowed(url)) {
		throw invalidUrl(
			`uses http:// for the public host ${url.hostname}: the webhook code would travel unencrypted; use https://`,
		);
	}
	return `${url.origin}${match[1]}`;
}

/** https anywhere; plain http only on the machine itself or a private network. */
function httpAllowed(url: URL): boolean {
	const host = url.hostname.toLowerCase();
	return url.protocol === 'https:' || PRIVATE_HOSTS.some((pattern) => pattern.test(host));
}

function invalidPortalUrl(problem: string): Bitrix24Failure {
	return new Bitrix24Failure(
		'INVALID_PORTAL_URL',
		`The Portal URL of the OAuth2 credential ${problem}`,
		null,
	);
}

/** `<Portal URL>/rest`, where OAuth calls go; the access token must not travel in clear to a public host. */
export function oauthRestBase(portalUrl: unknown): string {
	let url: URL;
	try {
		url = new URL(String(portalUrl ?? '').trim());
	} catch {
		throw invalidPortalUrl('is not a web address like https://yourcompany.bitrix24.com');
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw invalidPortalUrl('is not a web address like https://yourcompany.bitrix24.com');
	}
	if (!httpAllowed(url)) {
		throw invalidPortalUrl(
			`uses http:// for the public host ${url.hostname}: the access token would travel unencrypted; use https://`,
		);
	}
	return `${url.origin}${url.pathname.replace(/\/+$/, '')}/rest`;
}
