/**
 * Tests are TypeScript (ts-jest); they import the development tools (tools/: the emulator, the engine harness,
 * the real-n8n runner) like any other module. tsconfig.test.json sets isolatedModules, so ts-jest only transpiles
 * each file (seconds instead of minutes on a clean machine); `npm run typecheck` checks the types.
 */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
	moduleFileExtensions: ['ts', 'js', 'json'],
	testTimeout: 30000,
};
