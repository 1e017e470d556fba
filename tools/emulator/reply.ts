/** Transport-neutral HTTP answers built by the route handlers and written by the server. */

export interface HttpReply {
	status: number;
	contentType: string;
	body: string;
	headers?: Record<string, string>;
}

/** A body labelled JSON whatever it holds: also how the emulator sends empty or cut-off "JSON". */
export const jsonTextReply = (status: number, body: string): HttpReply => ({
	status,
	contentType: 'application/json; charset=utf-8',
	body,
});

export const jsonReply = (status: number, value: unknown): HttpReply =>
	jsonTextReply(status, JSON.stringify(value));

/** What a reverse proxy in front of the portal sends: not JSON. */
export const htmlReply = (status: number, title: string): HttpReply => ({
	status,
	contentType: 'text/html; charset=utf-8',
	body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
});

export const redirectReply = (location: string): HttpReply => ({
	status: 302,
	contentType: 'text/plain; charset=utf-8',
	body: `Redirecting to ${location}`,
	headers: { location },
});
