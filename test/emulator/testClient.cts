/** Tiny fetch wrappers for the emulator's own tests (and handy for the node's tests too). */

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
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		body = undefined;
	}
	return { status: response.status, headers: response.headers, text, body };
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
