/** Public types of the emulator (re-exported from index.ts). */
import type { BotPlatform } from './bots';
import type { AuthKind, RecordedMessage } from './context';
import type { Fault, FaultFilter } from './faults';
import type { OAuthTokens } from './oauth';
import type { ParamRecord } from './params';
import type { BudgetSettings, BudgetSnapshot } from './rateLimit';
import type { TlsProfile } from './tls';
import type { World } from './world';

export interface EmulatorOptions {
	/** Default 0: a random free port on 127.0.0.1. */
	port?: number;
	/** Leaky-bucket size; default 50. */
	burstLimit?: number;
	/** Leaky-bucket drain rate; default 2. */
	requestsPerSecond?: number;
	/** Default 3600. */
	accessTokenTtlSeconds?: number;
	/** Millisecond clock for the bucket, token/code expiry and `time` envelopes; default Date.now. */
	now?: () => number;
	/**
	 * Link jitter: each REST call waits a random 0..jitterMs ms (real time) before it is processed, so
	 * concurrent calls may be processed out of arrival order. Default 0 (none).
	 */
	jitterMs?: number;
	/** Seed of the jitter's PRNG, so a jittered run repeats; default DEFAULT_JITTER_SEED. */
	jitterSeed?: number;
	/** Serve HTTPS with this test certificate (see tls/README.md) instead of HTTP. */
	tls?: TlsProfile;
	/**
	 * The load limiter of cloud portals: successes carry `time.operating` and `time.operating_reset_at`.
	 * Default true; false is a portal without it (fields absent).
	 */
	loadLimiter?: boolean;
}

export interface RecordedRequest {
	/** Emulator clock (ms) at arrival. */
	at: number;
	httpMethod: string;
	/** Path without the query string. */
	path: string;
	/** Path with the query string, as received. */
	url: string;
	/** REST method (lower-case, `.json` stripped) or null for the OAuth endpoints. */
	restMethod: string | null;
	/** How the call authenticated (by URL shape for REST calls); 'none' for the OAuth endpoints. */
	authKind: AuthKind | 'none';
	/** Status answered; null when the connection was dropped without an answer. */
	status: number | null;
	/** The `error` code answered, if any. */
	error?: string;
	/** The injected fault this request consumed, if any. */
	fault?: Fault['kind'];
	/** Query and body merged, body winning (credential params included). */
	params: ParamRecord;
	rawBody: string;
	/** Header names lower-case; repeated headers joined with ", ". */
	headers: Record<string, string>;
}

export interface EmulatorState {
	messages: RecordedMessage[];
	requestCount: number;
	/** REST calls rejected with 503 QUERY_LIMIT_EXCEEDED by the leaky bucket. */
	rejected503: number;
	budget: BudgetSnapshot;
	pendingFaults: number;
	requests: RecordedRequest[];
}

export interface Emulator {
	/** e.g. http://127.0.0.1:40123 (https://… with the `tls` option) */
	baseUrl: string;
	/** `${baseUrl}/rest/1/<WEBHOOK_CODE>/`: the full-scope webhook. */
	webhookUrl: string;
	/** `${baseUrl}/rest/1/<LIMITED_WEBHOOK_CODE>/`: the crm+user webhook. */
	limitedWebhookUrl: string;
	/** `${baseUrl}/rest/1/wrongcode000000/`: a webhook code the portal does not know (INVALID_CREDENTIALS). */
	wrongCodeWebhookUrl: string;
	/** `${baseUrl}/oauth/token/` */
	tokenUrl: string;
	/** `${baseUrl}/oauth/authorize/` */
	authorizeUrl: string;
	/** Live state: tests may read and modify it. */
	world: World;
	/**
	 * The bot side: `customerWrites(chatId, text)` (a customer writes into an open-line chat: the welcome bot joins,
	 * bots get their events), `messagePosted`, `messageEdited`, `settled()` (every webhook delivery answered).
	 * Deliveries are recorded in `world.imbot.deliveries`, fetch-mode events queued in `world.imbot.queue`.
	 */
	bots: BotPlatform;
	/** Every message the portal accepted, in processing order. */
	messages: RecordedMessage[];
	/**
	 * Every HTTP request received, in arrival order (REST and OAuth endpoints; control API calls are not
	 * recorded).
	 */
	requests: RecordedRequest[];
	state(): EmulatorState;
	/** New limits; also empties the bucket. */
	setBudget(budget: Partial<BudgetSettings>): void;
	/** New link jitter (see EmulatorOptions.jitterMs); the PRNG restarts from seed, default the start-up one. */
	setJitter(maxMs: number, seed?: number): void;
	/** Queue faults; each next REST call matching the filter consumes one. */
	injectFaults(faults: Fault[], filter?: FaultFilter): void;
	/** Mint an access + refresh pair for the seeded OAuth app. */
	issueOAuthTokens(opts?: { expired?: boolean }): OAuthTokens;
	/** Every access token issued so far answers 401 expired_token from now on. */
	expireAccessTokens(): void;
	/** Fresh world, empty records, no faults, no tokens, the start-up budget and jitter. */
	reset(): void;
	close(): Promise<void>;
}
