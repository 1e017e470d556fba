#!/usr/bin/env node
'use strict';
/**
 * Runs the TypeScript emulator CLI without a build step: `.cts` sources are transpiled in memory with the
 * project's own `typescript`, and `./x.cjs` imports resolve to the sibling `x.cts` (as in jest.config.js).
 * Usage: node test/emulator/run-cli.cjs [--port 8080] [--burst 50] [--rate 2]
 */
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveCts(request, parent, ...rest) {
	if (request.startsWith('.') && request.endsWith('.cjs') && parent && parent.filename) {
		const source = path.resolve(path.dirname(parent.filename), request.replace(/\.cjs$/, '.cts'));
		if (fs.existsSync(source)) return source;
	}
	return resolveFilename.call(this, request, parent, ...rest);
};

Module._extensions['.cts'] = function compileCts(module, filename) {
	const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
		fileName: filename,
		compilerOptions: {
			module: ts.ModuleKind.CommonJS,
			target: ts.ScriptTarget.ES2022,
			esModuleInterop: true,
		},
	});
	module._compile(outputText, filename);
};

require('./cli.cts')
	.main(process.argv.slice(2))
	.catch((error) => {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	});
