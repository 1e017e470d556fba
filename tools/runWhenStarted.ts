/**
 * Runs a script's `main(argv)` when its file was started from the command line (`tsx scripts/bench.ts --list`),
 * not when another file imports it; a failure prints one line and exits with code 1.
 */
export function runWhenStarted(
	module: NodeJS.Module,
	main: (argv: string[]) => Promise<unknown>,
): void {
	if (require.main !== module) return;
	main(process.argv.slice(2)).catch((error: unknown) => {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	});
}
