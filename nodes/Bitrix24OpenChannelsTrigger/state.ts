import { createHash, timingSafeEqual } from 'node:crypto';
import type { IDataObject } from 'n8n-workflow';

import type { DirectContext } from '../shared/transport';

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
	/** Event.get's next offset (polling mode); unset until the first poll skipped the backlog. */
	offset?: number;
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
