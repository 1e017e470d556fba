/**
 * Tiny fetch wrappers for the emulator's own tests (and handy for the node's tests too), plus what those tests
 * need from Node built-ins, kept here because the n8n lint rules forbid them in *.ts: timers and an HTTPS client
 * that can trust the test CA.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { TEST_CA_PATH } from './tls';

export interface HttpResult {
	status: number;
	headers: Headers;
	text: string;
	/** Parsed JSON body, or undefined when the body is not JSON. */
	body: unknown;
}

export type RequestBody =
	| { json: unknown }
	| { form: string | URLSearchParams }
	| { raw: string; contentType?: string };

export interface RequestOptions {
	method?: string;
	headers?: Record<string, string>;
	body?: RequestBody;
	redirect?: 'follow' | 'manual' | 'error';
}

function encodeBody(body: RequestBody | undefined): { payload?: string; contentType?: string } {
	if (body === undefined) return {};
	if ('json' in body)
		return { payload: JSON.stringify(body.json), contentType: 'application/json' };
	if ('form' in body)
		return { payload: String(body.form), contentType: 'application/x-www-form-urlencoded' };
	return { payload: body.raw, contentType: body.contentType };
}

export async function request(url: string, options: RequestOptions = {}): Promise<HttpResult> {
	const { payload, contentType } = encodeBody(options.body);
	const headers: Record<string, string> = {
		...(contentType ? { 'content-type': contentType } : {}),
		...options.headers,
	};
	const response = await fetch(url, {
		method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
		headers,
		body: payload,
		redirect: options.redirect ?? 'follow',
	});
	const text = await response.text();
	return {
		status: response.status,
		headers: response.headers,
		text,
		body: parseJsonOrUndefined(text),
	};
}

function parseJsonOrUndefined(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** JSON POST, the form the node uses. */
export const postJson = (
	url: string,
	json: unknown,
	headers?: Record<string, string>,
): Promise<HttpResult> => request(url, { body: { json }, headers });

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

/** Narrow an unknown JSON value to an object (throws otherwise, failing the test clearly). */
export function obj(value: unknown): Record<string, unknown> {
	if (!isObject(value)) throw new Error(`Expected a JSON object, got ${JSON.stringify(value)}`);
	return value;
}

export function str(value: unknown): string {
	if (typeof value !== 'string') throw new Error(`Expected a string, got ${JSON.stringify(value)}`);
	return value;
}

export function arr(value: unknown): unknown[] {
	if (!Array.isArray(value)) throw new Error(`Expected a JSON array, got ${JSON.stringify(value)}`);
	return value;
}

export const sleep = (ms: number): Promise<void> =>
	new Promise((resolve) => setTimeout(resolve, ms));

/** Poll every 5 ms until the condition holds. */
export async function until(condition: () => boolean): Promise<void> {
	while (!condition()) await sleep(5);
}

/** The test CA that signed the emulator's `valid` certificate (tls/ca.pem). */
export const readTestCa = (): Buffer => readFileSync(TEST_CA_PATH);

export interface HttpsOptions {
	/** Trusted CAs instead of Node's default store. */
	ca?: Buffer;
	/** Host name the certificate must carry; default the URL's host. */
	servername?: string;
}

/**
 * GET with Node's own https client on a fresh connection (no agent, so no TLS session is reused); rejects with
 * the TLS error (its `code` says why the certificate was refused).
 */
export function httpsGet(url: string, tls: HttpsOptions = {}): Promise<HttpResult> {
	return new Promise((resolve, reject) => {
		const req = httpsRequest(url, { agent: false, ...tls }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('error', reject);
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				const headers = new Headers();
				for (const [name, value] of Object.entries(res.headers))
					if (value !== undefined)
						headers.set(name, Array.isArray(value) ? value.join(', ') : value);
				resolve({ status: res.statusCode ?? 0, headers, text, body: parseJsonOrUndefined(text) });
			});
		});
		req.on('error', reject);
		req.end();
	});
}

/** The method the package sends, and the documented example call of it (a seeded lead, operator and chat). */
export const SEND = 'imopenlines.crm.message.add';
export const VALID = {
	CRM_ENTITY_TYPE: 'lead',
	CRM_ENTITY: 1195,
	USER_ID: 27,
	CHAT_ID: 1341,
	MESSAGE: 'Hello',
};
