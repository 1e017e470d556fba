/**
 * Who is calling: an inbound webhook (user id + secret code in the path) or an OAuth access token, checked in the
 * order of rest/lib/apauth/auth.php and rest/lib/oauth/auth.php (onRestCheckAuth). Every refusal is 401.
 */
import type { AuthKind } from './context';
import { Errors } from './envelope';
import type { OAuthServer } from './oauth';
import type { ParamRecord } from './params';
import { findBot, findUser, type World } from './world';

export interface Caller {
	userId: number;
	scopes: readonly string[];
	authKind: AuthKind;
	/** The OAuth application's client_id (CRestServer::getClientId); undefined for webhooks. */
	clientId?: string;
}

/** Parameters that carry credentials; they are not passed on to the methods. */
export const AUTH_PARAMS = ['auth', 'access_token'] as const;

/** A method's scope; null is the global scope every credential has. */
export type Scope = string | null;

/** RestManager::getAlternativeScope: the user scope's methods are also open to user_brief and user_basic. */
const ALTERNATIVE_SCOPES: Readonly<Record<string, readonly string[]>> = {
	user: ['user_brief', 'user_basic'],
};

/** Whether credentials with `scopes` may call a method of `scope` (RestManager::fillAlternativeScope). */
export function scopeAllows(scopes: readonly string[], scope: Scope): boolean {
	if (scope === null || scopes.includes(scope)) return true;
	return (ALTERNATIVE_SCOPES[scope] ?? []).some((alternative) => scopes.includes(alternative));
}

/** CRestUtil::makeAuth signs the credential's user in: a deactivated or missing user cannot be. */
function canSignIn(world: World, userId: number): boolean {
	return findUser(world, userId)?.active === true || findBot(world, userId) !== undefined;
}

/**
 * apauth/auth.php::onRestCheckAuth: https (when required), then the code and its scope (check), the overload
 * block, the plan, and whether the webhook's user can be signed in.
 */
export function webhookCaller(
	world: World,
	route: { userId: string; code: string },
	scope: Scope,
	https: boolean,
): Caller {
	if (world.portal.httpsRequired && !https) throw Errors.httpsRequired();
	const hook = world.webhooks.find(
		(w) => String(w.userId) === route.userId && w.code === route.code && w.active !== false,
	);
	if (!hook) throw Errors.invalidCredentials();
	if (!scopeAllows(hook.scopes, scope)) throw Errors.insufficientScope('webhook');
	if (hook.overloaded === true) throw Errors.overload();
	if (!world.portal.restAvailable) throw Errors.restUnavailable('webhook');
	if (!canSignIn(world, hook.userId)) throw Errors.authorization();
	return { userId: hook.userId, scopes: hook.scopes, authKind: 'webhook' };
}

/** oauth/auth.php::getAuthKey: `Authorization: Bearer` first, then the `auth` / `access_token` params (not lists). */
function accessTokenOf(authorization: string | undefined, params: ParamRecord): string | undefined {
	const bearer = /^Bearer\s+(.*)$/i.exec(authorization ?? '')?.[1];
	if (bearer !== undefined) return bearer;
	const value = AUTH_PARAMS.map((name) => params[name]).find(
		(v) => v !== undefined && !Array.isArray(v),
	);
	return value === undefined || value === null ? undefined : String(value);
}

/**
 * oauth/auth.php::onRestCheckAuth: the token, the overload block, the plan, expiry, scope, whether the user can be
 * signed in, and whether the application is available to that user.
 */
export function oauthCaller(
	world: World,
	oauth: OAuthServer,
	request: { authorization: string | undefined; params: ParamRecord },
	scope: Scope,
): Caller {
	const token = accessTokenOf(request.authorization, request.params);
	if (token === undefined || token === '') throw Errors.noAuth();
	const found = oauth.lookupAccess(token);
	if (found.kind === 'unknown') throw Errors.invalidToken();
	const { grant } = found;
	const app = world.oauthApps.find((a) => a.clientId === grant.clientId);
	if (app?.overloaded === true) throw Errors.overload();
	if (!world.portal.restAvailable) throw Errors.restUnavailable('oauth');
	if (found.kind === 'expired') throw Errors.expiredToken();
	if (!scopeAllows(grant.scopes, scope)) throw Errors.insufficientScope('oauth');
	if (!canSignIn(world, grant.userId)) throw Errors.authorization();
	if (app?.availableTo !== undefined && !app.availableTo.includes(grant.userId))
		throw Errors.userAccess();
	return {
		userId: grant.userId,
		scopes: grant.scopes,
		authKind: 'oauth',
		clientId: grant.clientId,
	};
}
