/**
 * Control API under /_emulator/ for driving a running emulator from another process (JSON in, JSON out).
 * Not rate-limited and not recorded.
 */
import { parseFaults } from './faults';
import { parseIssueOptions } from './oauth';
import { isRecord } from './params';
import { jsonReply, type HttpReply } from './reply';
import type { BudgetSettings } from './rateLimit';
import type { Emulator } from './types';

export const CONTROL_PREFIX = '/_emulator/';

type ControlRoute = (emulator: Emulator, body: Record<string, unknown>) => HttpReply;

const ok = (extra: Record<string, unknown> = {}): HttpReply =>
	jsonReply(200, { ok: true, ...extra });

/** `{ "maxMs": 40, "seed"?: 7 }`: maxMs a number >= 0, seed an integer. */
function jitterFrom(body: Record<string, unknown>): { maxMs: number; seed?: number } {
	const { maxMs, seed } = body;
	if (typeof maxMs !== 'number' || !(maxMs >= 0) || !Number.isFinite(maxMs))
		throw new Error('maxMs must be a number >= 0');
	if (seed === undefined) return { maxMs };
	if (typeof seed !== 'number' || !Number.isInteger(seed))
		throw new Error('seed must be an integer');
	return { maxMs, seed };
}

function budgetFrom(body: Record<string, unknown>): Partial<BudgetSettings> {
	const budget: Partial<BudgetSettings> = {};
	for (const key of ['burstLimit', 'requestsPerSecond'] as const) {
		const value = body[key];
		if (value === undefined) continue;
		if (typeof value !== 'number' || !(value > 0))
			throw new Error(`${key} must be a positive number`);
		budget[key] = value;
	}
	return budget;
}

const ROUTES: Readonly<Record<string, ControlRoute>> = {
	'GET state': (emu) => jsonReply(200, emu.state()),
	'GET world': (emu) => jsonReply(200, emu.world),
	'POST faults': (emu, body) => {
		const { method, insideBatch } = body;
		if (method !== undefined && typeof method !== 'string')
			throw new Error('method must be a string');
		if (insideBatch !== undefined && typeof insideBatch !== 'boolean')
			throw new Error('insideBatch must be a boolean');
		emu.injectFaults(parseFaults(body.faults), {
			...(method === undefined ? {} : { method }),
			...(insideBatch === undefined ? {} : { insideBatch }),
		});
		return ok({ pendingFaults: emu.state().pendingFaults });
	},
	'POST budget': (emu, body) => {
		emu.setBudget(budgetFrom(body));
		return ok({ budget: emu.state().budget });
	},
	'POST jitter': (emu, body) => {
		const { maxMs, seed } = jitterFrom(body);
		emu.setJitter(maxMs, seed);
		return ok();
	},
	'POST reset': (emu) => {
		emu.reset();
		return ok();
	},
	'POST expire-tokens': (emu) => {
		emu.expireAccessTokens();
		return ok();
	},
	'POST tokens': (emu, body) => jsonReply(200, emu.issueOAuthTokens(parseIssueOptions(body))),
	// A customer writes into an open-line chat: {"chatId":1341,"text":"Hi"}; an edit: {"messageId":..,"text":..}.
	'POST customer-message': (emu, body) =>
		jsonReply(200, emu.bots.customerWrites(positiveInteger(body, 'chatId'), textIn(body))),
	'POST edit-message': (emu, body) =>
		jsonReply(200, {
			eventIds: emu.bots.messageEdited(positiveInteger(body, 'messageId'), textIn(body)),
		}),
	// The customer presses a keyboard button: {"chatId":1341,"messageId":86400,"text":"Talk to a person"}.
	'POST customer-press': (emu, body) =>
		jsonReply(
			200,
			emu.bots.customerPresses(
				positiveInteger(body, 'chatId'),
				positiveInteger(body, 'messageId'),
				textIn(body),
			),
		),
	'GET bots': (emu) => jsonReply(200, emu.world.imbot),
};

function positiveInteger(body: Record<string, unknown>, key: string): number {
	const value = body[key];
	if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
		throw new Error(`${key} must be a positive integer`);
	return value;
}

function textIn(body: Record<string, unknown>): string {
	if (typeof body.text !== 'string' || body.text === '')
		throw new Error('text must be a non-empty string');
	return body.text;
}

function parseControlBody(raw: string): Record<string, unknown> {
	if (raw.trim() === '') return {};
	const parsed: unknown = JSON.parse(raw);
	if (!isRecord(parsed)) throw new Error('body must be a JSON object');
	return parsed;
}

export function handleControl(
	emulator: Emulator,
	httpMethod: string,
	path: string,
	rawBody: string,
): HttpReply {
	const name = path.slice(CONTROL_PREFIX.length).replace(/\/+$/, '');
	const route = ROUTES[`${httpMethod.toUpperCase()} ${name}`];
	if (!route)
		return jsonReply(404, {
			error: 'NOT_FOUND',
			error_description: `No control route ${httpMethod} ${path}`,
		});
	try {
		return route(emulator, parseControlBody(rawBody));
	} catch (error: unknown) {
		const description = error instanceof Error ? error.message : String(error);
		return jsonReply(400, { error: 'BAD_REQUEST', error_description: description });
	}
}
