/**
 * End-to-end: the Bitrix24 OAuth2 credential's "Connect" in a real n8n server (`n8n start`, each pinned line),
 * against the emulated portal, driven the way the editor and the browser drive it: the credential created
 * through n8n's REST API, the authorization URL asked from n8n, the portal's authorize page followed, n8n's
 * callback page loaded with the browser's cookies. Then the tokens n8n stored are compared with the ones the
 * portal's token endpoint handed out, used by a workflow run and refreshed by the next one.
 * One n8n server start per line.
 */
import type { Emulator, RecordedRequest } from '../../tools/emulator';
import {
	FULL_SCOPES,
	MEMBER_ID,
	OAUTH_CLIENT_ID,
	OAUTH_CLIENT_SECRET,
	OAUTH_SERVER_DOMAIN,
	restCallsOf,
	tokenCallsOf,
} from '../../tools/emulator';
import { outputItems, type JsonObject } from '../../tools/n8n/runner';
import { NODES, exampleVariant, type CredentialRef } from '../../tools/n8n/workflows';
import {
	openEditorLine,
	recordTokenAnswers,
	type EditorLine,
	type HttpAnswer,
	type TokenAnswer,
} from './support/editorServer';
import { linesUnderTest, printTimings, timed } from './support/harness';

const CREDENTIAL_TYPE = 'bitrix24OAuth2Api';
const CALLBACK_PATH = '/rest/oauth2-credential/callback';

/** One notification to the happy-path chat (lead 1195, Telegram, in progress), sent by Oleg Operator. */
const NOTIFICATION = {
	note: 'sent with the connected OAuth2 credential',
	entityType: 'lead',
	entityId: 1195,
	chatId: 1341,
	senderId: 27,
	message: 'Hello from n8n, connected over OAuth2',
};

/** The text a person reads on n8n's callback page (tags dropped, Handlebars' escapes undone). */
function pageText(html: string): string {
	return html
		.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
		.replace(/<[^>]+>/g, ' ')
		.replace(/&quot;/g, '"')
		.replace(/&#x27;|&#39;/g, "'")
		.replace(/&#x3D;/g, '=')
		.replace(/&#x60;/g, '`')
		.replace(/&lt;/g, '<')
		.replace(/&gt;/g, '>')
		.replace(/&amp;/g, '&')
		.replace(/\s+/g, ' ')
		.trim();
}

interface ConnectRun {
	credentialId: string;
	/** The authorization URL n8n gave the editor. */
	authUrl: URL;
	/** Where the portal's authorize page sent the browser. */
	redirect: URL;
	/** n8n's callback page. */
	callback: HttpAnswer;
	/** Token endpoint calls (and their answers) made while n8n handled the callback. */
	tokenCalls: RecordedRequest[];
	tokenAnswers: TokenAnswer[];
}

const lines = linesUnderTest();

afterAll(() => printTimings());

describe.each(lines)('OAuth2 connect flow in a real n8n %s server', (line) => {
	let ctx: EditorLine;
	let emulator: Emulator;
	let tokenAnswers: TokenAnswer[];
	let callbackUrl: string;

	beforeAll(async () => {
		ctx = await timed(
			`${line}: start n8n server and set up the owner`,
			async () => await openEditorLine(line),
		);
		emulator = ctx.emulator;
		tokenAnswers = recordTokenAnswers(emulator);
		callbackUrl = `${ctx.baseUrl}${CALLBACK_PATH}`;
		// The local application's Redirect URL, as the README tells users to set it: n8n's OAuth callback.
		const app = emulator.world.oauthApps[0];
		if (!app) throw new Error('The emulated portal has no OAuth application');
		app.redirectUri = callbackUrl;
	});

	afterAll(async () => {
		await ctx?.close();
	});

	const storedData = async (credentialId: string): Promise<JsonObject | undefined> =>
		(await ctx.session.exportCredentials()).find((credential) => credential.id === credentialId)
			?.data;

	const createCredential = async (name: string, clientSecret: string): Promise<CredentialRef> => {
		const created = await ctx.client.rest<{ id: string; name: string; type: string }>(
			'POST',
			'/rest/credentials',
			{
				name,
				type: CREDENTIAL_TYPE,
				data: {
					portalUrl: emulator.baseUrl,
					accessTokenUrl: emulator.tokenUrl,
					clientId: OAUTH_CLIENT_ID,
					clientSecret,
				},
			},
		);
		expect(created).toEqual(
			expect.objectContaining({ name, type: CREDENTIAL_TYPE, id: expect.any(String) }),
		);
		return { id: created.id, name: created.name };
	};

	/** "Connect" as the editor and the browser do it: auth URL from n8n, portal's authorize page, n8n's callback. */
	const connect = async (credential: CredentialRef): Promise<ConnectRun> => {
		const authUrl = new URL(
			await ctx.client.rest<string>(
				'GET',
				`/rest/oauth2-credential/auth?id=${encodeURIComponent(credential.id)}`,
			),
		);

		// The browser opens the portal's authorize page; the user is signed in there and the app is approved.
		const requestsBefore = emulator.requests.length;
		const authorize = await fetch(authUrl, { redirect: 'manual' });
		expect(authorize.status).toBe(302);
		const location = authorize.headers.get('location');
		expect(location).toEqual(expect.any(String));
		const redirect = new URL(String(location));
		expect(
			emulator.requests.slice(requestsBefore).map((r) => [r.httpMethod, r.path, r.status]),
		).toEqual([['GET', '/oauth/authorize/', 302]]);

		// The browser follows the redirect to n8n's callback with n8n's cookies, as a page load.
		const tokensBefore = emulator.requests.length;
		const answersBefore = tokenAnswers.length;
		const callback = await ctx.client.request('GET', redirect.toString(), { browser: true });
		return {
			credentialId: credential.id,
			authUrl,
			redirect,
			callback,
			tokenCalls: tokenCallsOf(emulator.requests, tokensBefore),
			tokenAnswers: tokenAnswers.slice(answersBefore),
		};
	};

	const runWith = async (label: string, credential: CredentialRef, workflowId: string) =>
		await timed(
			`${line}: ${label}`,
			async () =>
				await ctx.client.runWorkflow(
					line,
					ctx.installed,
					exampleVariant({
						id: workflowId,
						name: `e2e: ${label}`,
						items: [NOTIFICATION],
						oauth: credential,
					}),
					NODES.trigger,
				),
		);

	test("Connect: n8n sends the browser to <Portal URL>/oauth/authorize/, the portal redirects to n8n's callback, n8n exchanges the code at the Access Token URL and stores the tokens; a workflow then sends with them and refreshes them", async () => {
		const credential = await createCredential(
			'Bitrix24 OAuth2 (connected in the e2e test)',
			OAUTH_CLIENT_SECRET,
		);
		expect((await storedData(credential.id))?.oauthTokenData).toBeUndefined();

		const run = await timed(`${line}: connect`, async () => await connect(credential));

		// 1. n8n's authorization URL: the portal's authorize page (the hidden authUrl, derived from Portal URL),
		//    the app's client_id, n8n's callback as redirect_uri, a state; never the client secret.
		expect(`${run.authUrl.origin}${run.authUrl.pathname}`).toBe(emulator.authorizeUrl);
		const authParams = Object.fromEntries(run.authUrl.searchParams);
		expect(authParams).toEqual(
			expect.objectContaining({
				client_id: OAUTH_CLIENT_ID,
				redirect_uri: callbackUrl,
				response_type: 'code',
				state: expect.stringMatching(/.{16,}/),
			}),
		);
		expect(run.authUrl.toString()).not.toContain(OAUTH_CLIENT_SECRET);

		// 2. The portal's redirect: n8n's callback with a code, the same state and Bitrix24's extra parameters.
		expect(`${run.redirect.origin}${run.redirect.pathname}`).toBe(callbackUrl);
		const code = run.redirect.searchParams.get('code');
		expect(code).toMatch(/^[0-9a-f]{32}$/);
		expect(Object.fromEntries(run.redirect.searchParams)).toEqual({
			code,
			state: authParams.state,
			domain: new URL(emulator.baseUrl).host,
			member_id: MEMBER_ID,
			scope: FULL_SCOPES.join(','),
			server_domain: OAUTH_SERVER_DOMAIN,
		});

		// 3. n8n redeemed the code once at the credential's Access Token URL, client id and secret in the body
		//    (the credential's authentication is 'body'), and the portal answered 200 with a token pair.
		expect(run.tokenCalls).toHaveLength(1);
		const [exchange] = run.tokenCalls;
		expect(exchange?.httpMethod).toBe('POST');
		expect(exchange?.path).toBe('/oauth/token/');
		expect(exchange?.params).toEqual(
			expect.objectContaining({
				grant_type: 'authorization_code',
				code,
				client_id: OAUTH_CLIENT_ID,
				client_secret: OAUTH_CLIENT_SECRET,
				redirect_uri: callbackUrl,
			}),
		);
		expect(exchange?.headers.authorization).toBeUndefined();
		expect(exchange?.status).toBe(200);
		expect(run.tokenAnswers).toHaveLength(1);
		const issued = run.tokenAnswers[0]?.body ?? {};
		expect(issued).toEqual(
			expect.objectContaining({
				access_token: expect.stringMatching(/^[0-9a-f]{32}$/),
				refresh_token: expect.stringMatching(/^[0-9a-f]{32}$/),
				expires_in: 3600,
				client_endpoint: `${emulator.baseUrl}/rest/`,
				member_id: MEMBER_ID,
			}),
		);

		// 4. n8n's callback page reports success.
		expect(run.callback.status).toBe(200);
		expect(pageText(run.callback.text)).toContain('Connection successful');

		// 5. The credential now holds exactly the pair the portal issued (n8n export:credentials --decrypted).
		const stored = await storedData(credential.id);
		expect(stored).toEqual(
			expect.objectContaining({
				portalUrl: emulator.baseUrl,
				accessTokenUrl: emulator.tokenUrl,
				clientId: OAUTH_CLIENT_ID,
				clientSecret: OAUTH_CLIENT_SECRET,
			}),
		);
		const tokenData = stored?.oauthTokenData as JsonObject | undefined;
		expect(tokenData).toEqual(
			expect.objectContaining({
				access_token: issued.access_token,
				refresh_token: issued.refresh_token,
				token_type: 'Bearer',
				expires_in: 3600,
				member_id: MEMBER_ID,
				// n8n keeps the callback's extra parameters (Bitrix24's domain, member_id, scope, server_domain).
				callbackQueryString: expect.objectContaining({
					member_id: MEMBER_ID,
					server_domain: OAUTH_SERVER_DOMAIN,
				}),
			}),
		);

		// 6. A workflow with the node on OAuth2 and this credential: the message goes to <Portal URL>/rest/ with
		//    the issued access token as Bearer, and the item carries the portal's message ID.
		const first = await runWith(
			'send with the connected credential',
			credential,
			'e2eOAuthConnected',
		);
		expect(first.status).toBe('success');
		expect(emulator.messages.map((m) => [m.chatId, m.userId, m.message])).toEqual([
			[NOTIFICATION.chatId, NOTIFICATION.senderId, NOTIFICATION.message],
		]);
		const sendCalls = restCallsOf(emulator.requests).filter((call) => call.authKind === 'oauth');
		expect(sendCalls.map((call) => [call.status, call.headers.authorization])).toEqual([
			[200, `Bearer ${String(issued.access_token)}`],
		]);
		expect(outputItems(first, NODES.sent).map((item) => item.messageId)).toEqual([
			emulator.messages[0]?.id,
		]);

		// 7. The stored refresh token is live: once the access token has expired, the next run refreshes with
		//    it (one refresh_token grant), sends with the new token, and n8n stores the new pair.
		emulator.expireAccessTokens();
		const beforeRefresh = emulator.requests.length;
		const answersBeforeRefresh = tokenAnswers.length;
		const second = await runWith(
			'send after the access token expired',
			credential,
			'e2eOAuthRefreshed',
		);
		expect(second.status).toBe('success');
		const refreshes = tokenCallsOf(emulator.requests, beforeRefresh);
		expect(
			refreshes.map((call) => [call.params.grant_type, call.params.refresh_token, call.status]),
		).toEqual([['refresh_token', issued.refresh_token, 200]]);
		const refreshed = tokenAnswers[answersBeforeRefresh]?.body ?? {};
		const retried = restCallsOf(emulator.requests, beforeRefresh);
		expect(retried.map((call) => [call.status, call.headers.authorization])).toEqual([
			[401, `Bearer ${String(issued.access_token)}`],
			[200, `Bearer ${String(refreshed.access_token)}`],
		]);
		expect(emulator.messages).toHaveLength(2);
		const afterRefresh = (await storedData(credential.id))?.oauthTokenData as
			| JsonObject
			| undefined;
		expect(afterRefresh).toEqual(
			expect.objectContaining({
				access_token: refreshed.access_token,
				refresh_token: refreshed.refresh_token,
			}),
		);
	});

	test("Connect with a wrong client secret: the portal refuses the code exchange (401 invalid_client), n8n's callback page says the connection failed, no token is stored", async () => {
		const wrongSecret = `${OAUTH_CLIENT_SECRET.slice(0, -4)}XXXX`;
		const credential = await createCredential('Bitrix24 OAuth2 (wrong client secret)', wrongSecret);

		const run = await timed(
			`${line}: connect with a wrong secret`,
			async () => await connect(credential),
		);

		// The authorize page does not need the secret: the portal hands out a code as before.
		const code = run.redirect.searchParams.get('code');
		expect(`${run.redirect.origin}${run.redirect.pathname}`).toBe(callbackUrl);
		expect(code).toMatch(/^[0-9a-f]{32}$/);

		// The exchange: one authorization_code grant with the wrong secret, refused.
		expect(
			run.tokenCalls.map((call) => [
				call.params.grant_type,
				call.params.code,
				call.params.client_secret,
				call.status,
				call.error,
			]),
		).toEqual([['authorization_code', code, wrongSecret, 401, 'invalid_client']]);
		expect(run.tokenAnswers).toEqual([{ status: 401, body: { error: 'invalid_client' } }]);

		// n8n's callback page reports the failure and the portal's reason.
		const text = pageText(run.callback.text);
		expect(text).toContain('Failed to connect');
		expect(text).not.toContain('Connection successful');
		expect(text).toMatch(/Error: Client authentication failed/);
		expect(text).toContain('invalid_client');

		// Nothing was stored.
		const stored = await storedData(credential.id);
		expect(stored).toEqual(
			expect.objectContaining({ clientId: OAUTH_CLIENT_ID, clientSecret: wrongSecret }),
		);
		expect(stored?.oauthTokenData).toBeUndefined();
	});
});
