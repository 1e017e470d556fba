/**
 * Tests are TypeScript (ts-jest). Dev tooling that needs Node built-ins (the Bitrix24 emulator, scripts)
 * is written as .cts: n8n's lint rules are for code that runs inside n8n and apply to *.ts only.
 * A relative import of `x.cjs` resolves to the `x.cts` source.
 */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	transform: { '^.+\\.c?ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
	moduleFileExtensions: ['ts', 'cts', 'js', 'cjs', 'json'],
	resolver: '<rootDir>/jest.resolver.js',
	testTimeout: 30000,
};
