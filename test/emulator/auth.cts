/** Who is calling: inbound webhook (user id + secret code in the path) or OAuth access token. */
import type { AuthKind } from './context.cjs';
import { Errors } from './envelope.cjs';
import type { OAuthServer } from './oauth.cjs';
import { scalarString, type ParamRecord } from './params.cjs';
import type { World } from './world.cjs';

export interface Caller {
	userId: number;
	scopes: readonly string[];
	authKind: AuthKind;
}

/** Parameters that carry credentials; they are not passed on to the methods. */
export const AUTH_PARAMS = ['auth', 'access_token'] as const;

export function webhookCaller(world: World, userIdSegment: string, code: string): Caller {
	const hook = world.webhooks.find((w) => String(w.userId) === userIdSegment && w.code === code);
	if (!hook) throw Errors.noAuth();
	return { userId: hook.userId, scopes: hook.scopes, authKind: 'webhook' };
}

/** Like the server code: `Authorization: Bearer` first, then the `auth` / `access_token` params. */
export function oauthCaller(
	oauth: OAuthServer,
	authorization: string | undefined,
	params: ParamRecord,
): Caller {
	const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
	const token =
		bearer ??
		AUTH_PARAMS.map((name) => scalarString(params[name])).find((t) => t !== undefined && t !== '');
	if (token === undefined) throw Errors.noAuth();
	const found = oauth.lookupAccess(token);
	if (found.kind === 'unknown') throw Errors.invalidToken();
	if (found.kind === 'expired') throw Errors.expiredToken();
	return { userId: found.grant.userId, scopes: found.grant.scopes, authKind: 'oauth' };
}
