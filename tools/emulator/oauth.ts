/**
 * The OAuth 2.0 side of the portal: the authorize endpoint (auto-approved as the app's user), the token
 * endpoint (authorization_code and refresh_token grants, rotating refresh tokens) and access-token lookup.
 */
import { randomBytes } from 'node:crypto';
import { AUTH_CODE_TTL_MS, MEMBER_ID, OAUTH_SERVER_DOMAIN } from './constants';
import { isRecord, scalarString, type ParamRecord } from './params';
import { jsonReply, redirectReply, type HttpReply } from './reply';
import type { OAuthApp, World } from './world';

/** The token endpoint's answer; also what issueOAuthTokens() hands to tests. */
export interface OAuthTokens {
	access_token: string;
	refresh_token: string;
	/** Seconds the access token lives (0 when minted already expired). */
	expires_in: number;
	/** Unix seconds when the access token expires. */
	expires: number;
	token_type: 'Bearer';
	scope: string;
	domain: string;
	server_endpoint: string;
	client_endpoint: string;
	member_id: string;
	user_id: number;
	status: 'L';
}

export interface TokenGrant {
	clientId: string;
	userId: number;
	scopes: string[];
}

/** An access token's grant, expired or not (Bitrix24 checks the plan before expiry), or nothing. */
export type AccessLookup = { kind: 'valid' | 'expired'; grant: TokenGrant } | { kind: 'unknown' };

interface OAuthDeps {
	world: () => World;
	now: () => number;
	baseUrl: () => string;
	accessTokenTtlSeconds: number;
}

const newToken = (): string => randomBytes(16).toString('hex');

/** Client credentials from the params or an HTTP Basic header (params win). */
function clientCredentials(
	params: ParamRecord,
	authorization: string | undefined,
): { id?: string; secret?: string } {
	const basic = /^Basic\s+(.+)$/i.exec(authorization ?? '');
	const decoded = basic ? Buffer.from(basic[1] ?? '', 'base64').toString('utf8') : '';
	const colon = decoded.indexOf(':');
	const [basicId, basicSecret] =
		colon === -1 ? [undefined, undefined] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
	return {
		id: scalarString(params.client_id) ?? basicId,
		secret: scalarString(params.client_secret) ?? basicSecret,
	};
}

export class OAuthServer {
	private readonly access = new Map<string, TokenGrant & { expiresAt: number }>();
	private readonly refresh = new Map<string, TokenGrant>();
	private readonly codes = new Map<string, TokenGrant & { expiresAt: number }>();

	constructor(private readonly deps: OAuthDeps) {}

	/** Mint an access + refresh pair for an app (as its user). */
	issue(app: OAuthApp, opts: { expired?: boolean } = {}): OAuthTokens {
		return this.mint(
			{ clientId: app.clientId, userId: app.userId, scopes: [...app.scopes] },
			opts.expired === true,
		);
	}

	lookupAccess(token: string): AccessLookup {
		const entry = this.access.get(token);
		if (!entry) return { kind: 'unknown' };
		if (entry.expiresAt <= this.deps.now()) return { kind: 'expired', grant: entry };
		return { kind: 'valid', grant: entry };
	}

	expireAll(): void {
		for (const entry of this.access.values())
			entry.expiresAt = Math.min(entry.expiresAt, this.deps.now());
	}

	clear(): void {
		this.access.clear();
		this.refresh.clear();
		this.codes.clear();
	}

	/** GET /oauth/authorize/: the user is taken as logged in and consenting; redirect with a 30 s code. */
	authorize(params: ParamRecord): HttpReply {
		const app = this.findApp(scalarString(params.client_id));
		if (!app)
			return jsonReply(400, { error: 'invalid_client', error_description: 'Unknown client_id' });
		const code = newToken();
		this.codes.set(code, {
			clientId: app.clientId,
			userId: app.userId,
			scopes: [...app.scopes],
			expiresAt: this.deps.now() + AUTH_CODE_TTL_MS,
		});
		const target = new URL(scalarString(params.redirect_uri) || app.redirectUri);
		const query: Record<string, string> = {
			code,
			state: scalarString(params.state) ?? '',
			domain: new URL(this.deps.baseUrl()).host,
			member_id: MEMBER_ID,
			scope: app.scopes.join(','),
			server_domain: OAUTH_SERVER_DOMAIN,
		};
		for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value);
		return redirectReply(target.toString());
	}

	/** /oauth/token/ with grant_type authorization_code or refresh_token. */
	token(params: ParamRecord, authorization: string | undefined): HttpReply {
		const credentials = clientCredentials(params, authorization);
		const app = this.findApp(credentials.id);
		if (!app || app.clientSecret !== credentials.secret)
			return jsonReply(401, { error: 'invalid_client' });
		const grantType = scalarString(params.grant_type);
		const redeem = grantType === undefined ? undefined : this.grantRedeemers[grantType];
		if (!redeem) return jsonReply(400, { error: 'unsupported_grant_type' });
		const grant = redeem(
			scalarString(grantType === 'refresh_token' ? params.refresh_token : params.code) ?? '',
			app,
		);
		return grant
			? jsonReply(200, this.mint(grant, false))
			: jsonReply(400, { error: 'invalid_grant' });
	}

	/** Each redeemer consumes its one-time credential and returns the grant it stood for. */
	private readonly grantRedeemers: Readonly<
		Record<string, (secret: string, app: OAuthApp) => TokenGrant | undefined>
	> = {
		authorization_code: (code, app) => {
			const entry = this.codes.get(code);
			this.codes.delete(code);
			const valid = entry && entry.clientId === app.clientId && entry.expiresAt > this.deps.now();
			return valid ? entry : undefined;
		},
		refresh_token: (token, app) => {
			const entry = this.refresh.get(token);
			if (!entry || entry.clientId !== app.clientId) return undefined;
			this.refresh.delete(token); // rotated: the old refresh token stops working
			return entry;
		},
	};

	private findApp(clientId: string | undefined): OAuthApp | undefined {
		return this.deps.world().oauthApps.find((a) => a.clientId === clientId);
	}

	private mint(grant: TokenGrant, expired: boolean): OAuthTokens {
		const now = this.deps.now();
		const ttlMs = expired ? 0 : this.deps.accessTokenTtlSeconds * 1000;
		const accessToken = newToken();
		const refreshToken = newToken();
		const base = { clientId: grant.clientId, userId: grant.userId, scopes: [...grant.scopes] };
		this.access.set(accessToken, { ...base, expiresAt: now + ttlMs });
		this.refresh.set(refreshToken, base);
		const baseUrl = this.deps.baseUrl();
		return {
			access_token: accessToken,
			refresh_token: refreshToken,
			expires_in: ttlMs / 1000,
			expires: Math.floor((now + ttlMs) / 1000),
			token_type: 'Bearer',
			scope: grant.scopes.join(','),
			domain: OAUTH_SERVER_DOMAIN,
			server_endpoint: `${baseUrl}/oauth/rest/`,
			client_endpoint: `${baseUrl}/rest/`,
			member_id: MEMBER_ID,
			user_id: grant.userId,
			status: 'L',
		};
	}
}

/** Narrow an `{expired?: boolean}` options object coming from JSON. */
export function parseIssueOptions(value: unknown): { expired?: boolean } {
	return isRecord(value) && typeof value.expired === 'boolean' ? { expired: value.expired } : {};
}
