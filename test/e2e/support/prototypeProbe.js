/**
 * Loaded into n8n with `NODE_OPTIONS=--require <this file>` (test/e2e/triggerAttacks.e2e.ts): in the n8n main
 * process only (`n8n start`; not its task runner, nor other commands), a tiny HTTP server on
 * 127.0.0.1:$E2E_PROTOTYPE_PROBE_PORT answers what Object.prototype looks like in that process right now, so the
 * test sees whether a webhook request polluted the process that handled it. Plain CommonJS: it runs before n8n.
 */
'use strict';

const port = Number(process.env.E2E_PROTOTYPE_PROBE_PORT);
const script = process.argv[1] || '';
const isMain = /[\\/]n8n[\\/]bin[\\/]n8n$/.test(script) && process.argv.includes('start');

if (port > 0 && isMain) {
	const http = require('node:http');
	const snapshot = () => {
		let stringOfObject;
		try {
			stringOfObject = String({});
		} catch (error) {
			stringOfObject = `throws: ${error && error.message}`;
		}
		const plain = {};
		return {
			pid: process.pid,
			ownKeys: Object.getOwnPropertyNames(Object.prototype).sort(),
			stringOfObject,
			// What a fresh {} inherits under the names the attacks use.
			inherited: ['x', 'y', 'event'].filter((key) => plain[key] !== undefined),
		};
	};
	const server = http.createServer((request, response) => {
		let body;
		try {
			body = JSON.stringify(snapshot());
		} catch (error) {
			body = JSON.stringify({ error: String(error) });
		}
		response.writeHead(200, { 'content-type': 'application/json' });
		response.end(body);
	});
	server.on('error', (error) => process.stderr.write(`prototype probe: ${error.message}\n`));
	server.listen(port, '127.0.0.1');
	server.unref();
}
