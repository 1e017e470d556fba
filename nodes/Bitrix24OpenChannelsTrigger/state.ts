import { createHash, timingSafeEqual } from 'node:crypto';
import type { IDataObject, IHookFunctions, IWebhookFunctions } from 'n8n-workflow';

import type { DirectContext } from '../shared/transport';
import type { WelcomeBotSetting } from './bot';

/**
 * What the trigger keeps in the workflow's static data (n8n saves it after activation, webhooks and polls). n8n
 * returns static data to anyone who may read the workflow, so it holds no secret: the URL and the application
 * token only as hashes, to compare what a request carries with.
 */
export interface TriggerState extends IDataObject {
	botId?: number;
	/** SHA-256 of the URL, secret included, the bot was pointed at (instant mode). */
	webhookUrlHash?: string;
	/** SHA-256 of that URL without its secret: n8n's URL of this workflow's node. */
	webhookBaseHash?: string;
	/** SHA-256 of Bitrix24's application_token, pinned once the portal confirmed an event that carried it. */
	applicationTokenHash?: string;
	/** The portal's member_id, learned with the application token. */
	memberId?: string;
	/** Keys of the events emitted lately, newest last, so a repeated delivery starts nothing. */
	recentEvents?: string[];
	/**
	 * Event.get's offset: polling mode's next one (unset until the first poll skipped the backlog); reliable mode's
	 * first event not yet held by n8n, as of the last execution it started (n8n saves static data when one starts).
	 */
	offset?: number;
	/** The open channels' own welcome-bot settings while the bot stands in for them, by line ID. */
	linesBefore?: Record<string, WelcomeBotSetting>;
}

/** Recent events remembered: hours of a busy line, a few dozen kilobytes of static data. */
const RECENT_EVENTS = 1000;

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Constant-time comparison of a value that arrived with what is expected. */
export function sameSecret(given: unknown, expected: string): boolean {
	if (typeof given !== 'string') return false;
	const a = Buffer.from(given);
	const b = Buffer.from(expected);
	return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether `value` hashes to `hash` (a stored hash; unset matches nothing). */
export const matchesHash = (value: string, hash: string | undefined): boolean =>
	hash !== undefined && sameSecret(sha256(value), hash);

/**
 * The node's static data. Versions before 0.2 kept the URL and the application token in clear: the URL becomes
 * its hash, and the token is dropped, to be confirmed again with the portal (it may have been pinned from a forgery).
 */
export function stateOf(context: DirectContext): TriggerState {
	const state = context.getWorkflowStaticData('node') as TriggerState;
	if (typeof state.webhookUrl === 'string') {
		state.webhookUrlHash = sha256(state.webhookUrl);
		state.webhookBaseHash = sha256(state.webhookUrl.replace(/\?.*$/, ''));
		delete state.webhookUrl;
	}
	if (state.applicationToken !== undefined) delete state.applicationToken;
	return state;
}

const recentOf = (state: TriggerState): string[] =>
	Array.isArray(state.recentEvents) ? state.recentEvents : [];

/** Whether an event with this key was emitted lately. */
export const seenBefore = (state: TriggerState, key: string): boolean =>
	recentOf(state).includes(key);

/** Whether an event with this key was emitted lately; remembers it if not. */
export function firstDelivery(state: TriggerState, key: string): boolean {
	if (seenBefore(state, key)) return false;
	state.recentEvents = [...recentOf(state).slice(-(RECENT_EVENTS - 1)), key];
	return true;
}

/** What the webhook learns from deliveries and must not forget. */
type Learned = Pick<TriggerState, 'applicationTokenHash' | 'memberId' | 'recentEvents'>;

/**
 * What this process learned from deliveries, per workflow and trigger node. n8n 2.x does not save the static data a
 * webhook changed when the request also starts an execution (WorkflowRunner.establishContextForPersistence builds a
 * second Workflow on the same object, which clears its change flag), so the pinned token and the recent events are
 * kept here as well and written back into static data by every request: the next one that starts no execution (a
 * dialog's start, an operator's message, a duplicate) has n8n save them.
 */
const learned = new Map<string, Learned>();

const learnedKey = (context: IWebhookFunctions | IHookFunctions): string =>
	`${context.getWorkflow().id ?? ''}|${context.getNode().name}`;

/** Static data with what this process learned since n8n last saved it. */
export function recallLearned(context: IWebhookFunctions, state: TriggerState): void {
	const known = learned.get(learnedKey(context));
	if (known === undefined) return;
	if (known.applicationTokenHash !== state.applicationTokenHash) {
		state.applicationTokenHash = known.applicationTokenHash;
		state.memberId = known.memberId;
	}
	const recent = recentOf(state);
	const missing = (known.recentEvents ?? []).filter((key) => !recent.includes(key));
	if (missing.length > 0) state.recentEvents = [...recent, ...missing].slice(-RECENT_EVENTS);
}

export function keepLearned(context: IWebhookFunctions, state: TriggerState): void {
	learned.set(learnedKey(context), {
		applicationTokenHash: state.applicationTokenHash,
		memberId: state.memberId,
		recentEvents: recentOf(state),
	});
}

/** A new bot: what was learned of the old one's deliveries no longer holds. */
export const forgetLearned = (context: IHookFunctions): boolean =>
	learned.delete(learnedKey(context));
