/** A stand-in for a bot's webhook handler in the emulator's own tests: a real HTTP server that keeps what it gets. */
import { createServer, type Server } from 'node:http';

import { parsePhpQuery, type ParamRecord } from './params';

export interface ReceivedEvent {
	path: string;
	contentType: string;
	raw: string;
	/** The form body decoded the way PHP would (`data[bot][id]` -> nested records). */
	params: ParamRecord;
}

export interface EventReceiver {
	url: string;
	received: ReceivedEvent[];
	/** The status the next posts are answered with (default 200). */
	answerWith: (status: number) => void;
	close: () => Promise<void>;
}

export async function startEventReceiver(): Promise<EventReceiver> {
	const received: ReceivedEvent[] = [];
	let status = 200;
	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			received.push({
				path: req.url ?? '/',
				contentType: req.headers['content-type'] ?? '',
				raw,
				params: parsePhpQuery(raw),
			});
			res.writeHead(status).end();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('Receiver not on TCP');
	return {
		url: `http://127.0.0.1:${address.port}/hook`,
		received,
		answerWith: (next) => {
			status = next;
		},
		close: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
