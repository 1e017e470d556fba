import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator';

/**
 * One emulated portal for the enclosing test file or `describe`: started before its tests, reset (records,
 * faults, chats) before each test, closed after them. The returned object stands for the running emulator.
 */
export function useEmulator(options?: EmulatorOptions): Emulator {
	let running: Emulator | undefined;
	beforeAll(async () => {
		running = await startEmulator(options);
	});
	afterAll(async () => {
		await running?.close();
	});
	beforeEach(() => running?.reset());
	const current = (): Emulator => {
		if (!running)
			throw new Error(
				'The emulator is used outside its tests (before beforeAll or after afterAll)',
			);
		return running;
	};
	return new Proxy({} as Emulator, {
		get: (_target, key) => {
			const value: unknown = Reflect.get(current(), key);
			return typeof value === 'function'
				? (value as (...args: unknown[]) => unknown).bind(current())
				: value;
		},
	});
}
