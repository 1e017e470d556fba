/**
 * The HTTP side of the emulated Bitrix24 portal: routing, authentication, rate limit, injected faults,
 * link jitter, the success/error envelopes and the control API. `startEmulator()` listens on 127.0.0.1
 * (HTTP, or HTTPS with a test certificate).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AUTH_PARAMS, oauthCaller, scopeAllows, webhookCaller, type Caller } from './auth';
import { BotPlatform } from './bots';
import {
	ADMIN_USER_ID,
	DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
	DEFAULT_BURST_LIMIT,
	DEFAULT_JITTER_SEED,
	DEFAULT_REQUESTS_PER_SECOND,
	LIMITED_WEBHOOK_CODE,
	WEBHOOK_CODE,
} from './constants';
import type { CallContext, MethodOutcome, RecordedMessage, RequestState } from './context';
import { CONTROL_PREFIX, handleControl } from './control';
import { Errors, KNOWN_DESCRIPTIONS, processException, RestError, timeInfo } from './envelope';
import { FaultQueue, type BadAnswer, type Fault, type FaultFilter } from './faults';
import { jitterDelays } from './jitter';
import { findMethod } from './methods';
import { OAuthServer, type OAuthTokens } from './oauth';
import { mergeParams, parseBody, parsePhpQuery, type ParamRecord } from './params';
import { LeakyBucket, type BudgetSettings } from './rateLimit';
import { htmlReply, jsonReply, jsonTextReply, type HttpReply } from './reply';
import { createPortalServer } from './tls';
import type { Emulator, EmulatorOptions, EmulatorState, RecordedRequest } from './types';
import { createSeedWorld, type World } from './world';

/** How a REST URL names its credentials and method. */
type RestRoute =
	| { kind: 'webhook'; userId: string; code: string; method: string }
	| { kind: 'oauth'; method: string };

/** `/rest/<user>/<code>/<method>[.json]` or `/rest/<method>[.json]`; method names are case-insensitive. */
function parseRestPath(path: string): RestRoute | undefined {
	const segments = path
		.replace(/^\/rest\//, '')
		.split('/')
		.filter((s) => s !== '');
	const method = (segments.at(-1) ?? '').replace(/\.json$/i, '').toLowerCase();
	if (segments.length === 3)
		return { kind: 'webhook', userId: segments[0] ?? '', code: segments[1] ?? '', method };
	if (segments.length === 1) return { kind: 'oauth', method };
	// `/rest/1/code/` (no method) and other shapes: Bitrix24 finds no method there.
	return segments.length === 2
		? { kind: 'webhook', userId: segments[0] ?? '', code: segments[1] ?? '', method: '' }
		: undefined;
}

/** What a fault does before any processing: an answer, a dropped connection, or nothing (process normally). */
function faultPreempts(fault: Fault): HttpReply | 'drop' | undefined {
	switch (fault.kind) {
		case 'status': {
			const error = fault.error ?? 'INTERNAL_SERVER_ERROR';
			const description = fault.errorDescription ?? KNOWN_DESCRIPTIONS[error] ?? error;
			return jsonReply(fault.status, { error, error_description: description });
		}
		case 'html':
			return htmlReply(
				fault.status,
				`${fault.status} ${fault.status === 502 ? 'Bad Gateway' : 'Error'}`,
			);
		case 'errorIn200':
			return jsonReply(200, {
				error: fault.error,
				error_description: fault.errorDescription ?? fault.error,
			});
		case 'operationTimeLimit':
			return jsonReply(429, Errors.operationTimeLimit().body());
		case 'dropBeforeProcessing':
			return 'drop';
		case 'dropAfterProcessing':
		case 'badAnswerAfterProcessing':
		case 'delay':
			return undefined;
	}
}

/** The first half of a body, by code points so no surrogate pair is split; at least one is cut. */
function firstHalf(text: string): string {
	const chars = [...text];
	return chars.slice(0, Math.floor(chars.length / 2)).join('');
}

/** badAnswerAfterProcessing: what the client gets instead of the answer the processed call produced. */
const BAD_ANSWER_REPLIES: Readonly<Record<BadAnswer, (processed: HttpReply) => HttpReply>> = {
	html504: () => htmlReply(504, '504 Gateway Time-out'),
	html502: () => htmlReply(502, '502 Bad Gateway'),
	empty200: () => jsonTextReply(200, ''),
	truncatedJson200: (processed) => jsonTextReply(200, firstHalf(processed.body)),
	json500: () => jsonReply(500, Errors.internal().body()),
};

function flattenHeaders(req: IncomingMessage): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(req.headers)) {
		if (value !== undefined)
			out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
	}
	return out;
}

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

const withoutAuthParams = (params: ParamRecord): ParamRecord =>
	Object.fromEntries(
		Object.entries(params).filter(([k]) => !(AUTH_PARAMS as readonly string[]).includes(k)),
	);

class PortalEmulator implements Emulator {
	baseUrl = '';
	readonly messages: RecordedMessage[] = [];
	readonly requests: RecordedRequest[] = [];
	private currentWorld = createSeedWorld();
	private rejected503 = 0;
	private readonly bucket: LeakyBucket;
	private readonly faults = new FaultQueue();
	private readonly oauth: OAuthServer;
	/** Stamped by operationTimeLimit faults: method -> Unix seconds of operating_reset_at. */
	private readonly operatingResetAt = new Map<string, number>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly defaultBudget: BudgetSettings;
	private readonly defaultJitter: { maxMs: number; seed: number };
	/** The next hold (ms) before a REST call is processed. */
	private nextJitter: () => number;
	private readonly now: () => number;
	/** Cloud portals' load limiter: successes report `time.operating` and `operating_reset_at`. */
	private readonly loadLimiter: boolean;
	private readonly https: boolean;
	readonly server: Server;
	readonly bots: BotPlatform;

	constructor(options: EmulatorOptions) {
		this.now = options.now ?? Date.now;
		this.bots = new BotPlatform(() => this.currentWorld, {
			baseUrl: () => this.baseUrl,
			now: this.now,
		});
		this.loadLimiter = options.loadLimiter ?? true;
		this.https = options.tls !== undefined;
		this.defaultBudget = {
			burstLimit: options.burstLimit ?? DEFAULT_BURST_LIMIT,
			requestsPerSecond: options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
		};
		this.bucket = new LeakyBucket(this.defaultBudget, this.now);
		this.defaultJitter = {
			maxMs: options.jitterMs ?? 0,
			seed: options.jitterSeed ?? DEFAULT_JITTER_SEED,
		};
		this.nextJitter = jitterDelays(this.defaultJitter.maxMs, this.defaultJitter.seed);
		this.oauth = new OAuthServer({
			world: () => this.currentWorld,
			now: this.now,
			baseUrl: () => this.baseUrl,
			accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
		});
		this.server = createPortalServer(options.tls, (req, res) => {
			this.handle(req, res).catch((error: unknown) => this.crash(res, error));
		});
	}

	get world(): World {
		return this.currentWorld;
	}

	set world(world: World) {
		this.currentWorld = world;
	}

	get webhookUrl(): string {
		return `${this.baseUrl}/rest/${ADMIN_USER_ID}/${WEBHOOK_CODE}/`;
	}

	get limitedWebhookUrl(): string {
		return `${this.baseUrl}/rest/${ADMIN_USER_ID}/${LIMITED_WEBHOOK_CODE}/`;
	}

	get wrongCodeWebhookUrl(): string {
		return `${this.baseUrl}/rest/${ADMIN_USER_ID}/wrongcode000000/`;
	}

	get tokenUrl(): string {
		return `${this.baseUrl}/oauth/token/`;
	}

	get authorizeUrl(): string {
		return `${this.baseUrl}/oauth/authorize/`;
	}

	state(): EmulatorState {
		return {
			messages: this.messages,
			requestCount: this.requests.length,
			rejected503: this.rejected503,
			budget: this.bucket.snapshot(),
			pendingFaults: this.faults.pending,
			requests: this.requests,
		};
	}

	setBudget(budget: Partial<BudgetSettings>): void {
		this.bucket.configure(budget);
	}

	setJitter(maxMs: number, seed = this.defaultJitter.seed): void {
		this.nextJitter = jitterDelays(maxMs, seed);
	}

	injectFaults(faults: Fault[], filter?: FaultFilter): void {
		this.faults.add(faults, filter);
		// A method's time budget is announced before it runs out: from now on its successes report the reset.
		for (const fault of faults) {
			if (fault.kind === 'operationTimeLimit') {
				this.operatingResetAt.set(filter?.method?.toLowerCase() ?? ANY_METHOD, fault.resetAt);
			}
		}
	}

	issueOAuthTokens(opts?: { expired?: boolean }): OAuthTokens {
		const app = this.currentWorld.oauthApps[0];
		if (!app) throw new Error('The world has no OAuth app');
		return this.oauth.issue(app, opts);
	}

	expireAccessTokens(): void {
		this.oauth.expireAll();
	}

	reset(): void {
		this.currentWorld = createSeedWorld();
		this.messages.length = 0;
		this.requests.length = 0;
		this.rejected503 = 0;
		this.faults.clear();
		this.oauth.clear();
		this.operatingResetAt.clear();
		this.bucket.configure(this.defaultBudget);
		this.setJitter(this.defaultJitter.maxMs);
	}

	async close(): Promise<void> {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		this.bots.abort();
		this.server.closeAllConnections();
		await new Promise<void>((resolve, reject) =>
			this.server.close((e) => (e ? reject(e) : resolve())),
		);
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const rawBody = await readBody(req);
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const httpMethod = req.method ?? 'GET';
		if (url.pathname.startsWith(CONTROL_PREFIX)) {
			this.send(res, handleControl(this, httpMethod, url.pathname, rawBody));
			return;
		}
		const body = parseBody(rawBody, req.headers['content-type'], httpMethod);
		const params = mergeParams(parsePhpQuery(url.search.slice(1)), body.params);
		const record: RecordedRequest = {
			at: this.now(),
			httpMethod,
			path: url.pathname,
			url: req.url ?? '/',
			restMethod: null,
			authKind: 'none',
			status: null,
			params,
			rawBody,
			headers: flattenHeaders(req),
		};
		this.requests.push(record);

		// The OAuth endpoints sit outside /rest/: no rate limit, no faults.
		const oauthEndpoints: Readonly<Record<string, () => HttpReply>> = {
			'/oauth/authorize': () => this.oauth.authorize(params),
			'/oauth/token': () => this.oauth.token(params, req.headers.authorization),
		};
		const oauthEndpoint = oauthEndpoints[url.pathname.replace(/\/+$/, '')];
		if (oauthEndpoint) {
			this.answer(res, record, oauthEndpoint());
			return;
		}
		const route = url.pathname.startsWith('/rest/') ? parseRestPath(url.pathname) : undefined;
		if (!route) {
			this.answer(res, record, htmlReply(404, '404 Not Found'));
			return;
		}
		record.restMethod = route.method;
		record.authKind = route.kind;
		// Recorded in arrival order above; processed (faults, bucket, method) after the hold.
		const hold = this.nextJitter();
		if (hold > 0) await this.sleep(hold);
		this.rest(req, res, record, route, params);
	}

	/** A timer that close() clears: whatever waits on it then never runs. */
	private sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				resolve();
			}, ms);
			this.timers.add(timer);
		});
	}

	/**
	 * Order: injected fault, rate limit (503 means not processed; where the real limiter sits is not in the public
	 * server code, so the documented behaviour is kept), then the server's own order (see process); then the answer
	 * (unless a fault drops, delays or replaces it).
	 */
	private rest(
		req: IncomingMessage,
		res: ServerResponse,
		record: RecordedRequest,
		route: RestRoute,
		params: ParamRecord,
	): void {
		const fault = this.faults.take(route.method);
		if (fault) record.fault = fault.kind;
		if (fault?.kind === 'operationTimeLimit')
			this.operatingResetAt.set(route.method, fault.resetAt);
		const preempted = fault ? faultPreempts(fault) : undefined;
		if (preempted === 'drop') {
			req.socket.destroy();
			return;
		}
		if (preempted) {
			this.answer(res, record, preempted);
			return;
		}

		const started = this.now();
		const processed = this.bucket.tryTake()
			? this.process(route, params, req.headers.authorization, started)
			: this.rateLimited();
		const reply =
			fault?.kind === 'badAnswerAfterProcessing'
				? BAD_ANSWER_REPLIES[fault.answer](processed)
				: processed;

		if (fault?.kind === 'dropAfterProcessing') {
			// Processed (a message may have been stored) but the client never hears back.
			req.socket.destroy();
		} else if (fault?.kind === 'delay') {
			void this.sleep(fault.ms).then(() => this.answer(res, record, reply));
		} else {
			this.answer(res, record, reply);
		}
	}

	private rateLimited(): HttpReply {
		this.rejected503 += 1;
		return this.errorReply(Errors.queryLimit());
	}

	/**
	 * rest.php::CRestServer::processExecution: a closed portal (403), the method lookup (404), authentication with
	 * the method's scope (401, auth.ts), then the method; a failure is reported through processException.
	 */
	private process(
		route: RestRoute,
		params: ParamRecord,
		authorization: string | undefined,
		started: number,
	): HttpReply {
		try {
			if (this.currentWorld.portal.closed) throw Errors.portalDeleted();
			const spec = findMethod(route.method);
			if (!spec) throw Errors.methodNotFound();
			const caller: Caller =
				route.kind === 'webhook'
					? webhookCaller(this.currentWorld, route, spec.scope, this.https)
					: oauthCaller(this.currentWorld, this.oauth, { authorization, params }, spec.scope);
			const ctx = this.context(caller);
			let outcome: MethodOutcome;
			try {
				outcome = spec.handler(withoutAuthParams(params), ctx);
			} catch (error: unknown) {
				throw error instanceof RestError ? processException(error, ctx.request.thrown) : error;
			}
			return jsonReply(200, this.success(route.method, outcome, started));
		} catch (error: unknown) {
			if (error instanceof RestError) return this.errorReply(error);
			throw error;
		}
	}

	/** A success envelope: `result`, the list siblings, and the `time` block. */
	private success(
		method: string,
		outcome: MethodOutcome,
		started: number,
	): Record<string, unknown> {
		return {
			result: outcome.result,
			...(outcome.next !== undefined ? { next: outcome.next } : {}),
			...(outcome.total !== undefined ? { total: outcome.total } : {}),
			time: timeInfo(
				started,
				this.now(),
				this.loadLimiter ? this.operatingReset(method) : undefined,
			),
		};
	}

	/** Unix seconds when the method's operating-time budget resets, as the load limiter reports it. */
	private operatingReset(method: string): number {
		return (
			this.operatingResetAt.get(method.toLowerCase()) ??
			this.operatingResetAt.get(ANY_METHOD) ??
			Math.floor(this.now() / 1000) + 600
		);
	}

	private context(caller: Caller): CallContext {
		const request: RequestState = {};
		const ctx: CallContext = {
			world: this.currentWorld,
			callerId: caller.userId,
			authKind: caller.authKind,
			clientId: caller.clientId,
			scopes: caller.scopes,
			now: this.now,
			bots: this.bots,
			messages: this.messages,
			viaBatch: false,
			request,
			invoke: (method, params) => this.command(method, withoutAuthParams(params), ctx),
		};
		return ctx;
	}

	/**
	 * One batch command (CRestServerBatchItem): `batch` itself is refused, then an injected fault aimed inside
	 * batches, the lookup, the batch's scopes (insufficient_scope with an empty description), the method. Its
	 * failure goes through processException with the request's application exception, which an earlier command
	 * may have left: the leak that makes later failures say CANCELED.
	 */
	private command(
		method: string,
		params: ParamRecord,
		batchCtx: CallContext,
	): Record<string, unknown> {
		const started = this.now();
		try {
			if (method.toLowerCase() === 'batch') throw Errors.batchMethodNotAllowed();
			const fault = this.faults.take(method, true);
			if (fault) this.failCommand(method, fault);
			const spec = findMethod(method);
			if (!spec) throw Errors.methodNotFound();
			if (!scopeAllows(batchCtx.scopes, spec.scope)) throw Errors.insufficientScope('batch');
			return this.success(method, spec.handler(params, { ...batchCtx, viaBatch: true }), started);
		} catch (error: unknown) {
			if (error instanceof RestError)
				return { ...processException(error, batchCtx.request.thrown).body() };
			throw error;
		}
	}

	/** A fault aimed at a command inside a batch: the command fails as the method would alone. */
	private failCommand(method: string, fault: Fault): void {
		if (fault.kind === 'operationTimeLimit') {
			this.operatingResetAt.set(method.toLowerCase(), fault.resetAt);
			throw Errors.operationTimeLimit();
		}
		if (fault.kind === 'status') {
			const error = fault.error ?? 'INTERNAL_SERVER_ERROR';
			throw new RestError(
				fault.status,
				error,
				fault.errorDescription ?? KNOWN_DESCRIPTIONS[error] ?? error,
			);
		}
	}

	private errorReply(error: RestError): HttpReply {
		return jsonReply(error.status, error.body());
	}

	private answer(res: ServerResponse, record: RecordedRequest, reply: HttpReply): void {
		record.status = reply.status;
		const error = errorCodeOf(reply);
		if (error !== undefined) record.error = error;
		this.send(res, reply);
	}

	private send(res: ServerResponse, reply: HttpReply): void {
		if (res.destroyed || res.writableEnded) return;
		res.writeHead(reply.status, {
			'content-type': reply.contentType,
			'content-length': Buffer.byteLength(reply.body),
			...reply.headers,
		});
		res.end(reply.body);
	}

	/** A bug in the emulator itself: answer 500 like the portal would rather than hang the client. */
	private crash(res: ServerResponse, error: unknown): void {
		const description = error instanceof Error ? error.message : String(error);
		this.send(
			res,
			jsonReply(500, { error: Errors.internal().code, error_description: description }),
		);
	}
}

function errorCodeOf(reply: HttpReply): string | undefined {
	if (!reply.contentType.startsWith('application/json')) return undefined;
	const parsed = parseJson(reply.body);
	if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return undefined;
	return typeof parsed.error === 'string' ? parsed.error : undefined;
}

/** undefined for the empty and cut-off bodies of badAnswerAfterProcessing. */
function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** Key of an operating reset announced for every method. */
const ANY_METHOD = '*';
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
	const emulator = new PortalEmulator(options);
	await new Promise<void>((resolve, reject) => {
		emulator.server.once('error', reject);
		emulator.server.listen(options.port ?? 0, '127.0.0.1', () => {
			emulator.server.off('error', reject);
			resolve();
		});
	});
	const address = emulator.server.address();
	if (address === null || typeof address === 'string')
		throw new Error('Emulator is not listening on a TCP port');
	emulator.baseUrl = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${address.port}`;
	return emulator;
}
