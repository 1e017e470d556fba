/**
 * The e2e suite (`npm run test:e2e`): real n8n processes, so one test file at a time and long timeouts.
 * Same TypeScript set-up as the unit tests (../../jest.config.js); files are *.e2e.ts so `npm test` skips them.
 */
const base = require('../../jest.config.js');

module.exports = {
	...base,
	rootDir: '../..',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.ts'],
	testTimeout: 15 * 60 * 1000,
	maxWorkers: 1,
	verbose: true,
};
