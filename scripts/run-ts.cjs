#!/usr/bin/env node
'use strict';
/**
 * Runs a dev tool written in TypeScript without a build step: `.ts`/`.cts` sources are transpiled in memory
 * with the project's own `typescript`, and `./x.cjs` imports resolve to the sibling `x.cts` (as in jest.config.js).
 * Usage: node scripts/run-ts.cjs <file.cts> [args...]   (the file exports `main(argv): Promise<void>`)
 */
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveTypeScript(request, parent, ...rest) {
	if (request.startsWith('.') && parent && parent.filename) {
		const base = path.resolve(path.dirname(parent.filename), request);
		const candidates = request.endsWith('.cjs') ? [base.replace(/\.cjs$/, '.cts')] : [`${base}.ts`];
		const source = candidates.find((candidate) => fs.existsSync(candidate));
		if (source) return source;
	}
	return resolveFilename.call(this, request, parent, ...rest);
};

function compile(module, filename) {
	const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
		fileName: filename,
		compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
	});
	module._compile(outputText, filename);
}
Module._extensions['.cts'] = compile;
Module._extensions['.ts'] = compile;

const [script, ...args] = process.argv.slice(2);
require(path.resolve(script))
	.main(args)
	.catch((error) => {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	});
