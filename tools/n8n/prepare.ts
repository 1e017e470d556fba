/**
 * Installs what the e2e suite needs before it runs: the pinned n8n lines (install.ts) and, when queue mode's
 * PostgreSQL and Redis are missing, Debian's packages (queue.ts). `.ci/run` starts it in the background so
 * the downloads overlap the build, lint and unit tests; `npm run test:e2e` runs it again (a no-op once done).
 *
 *   npx tsx tools/n8n/prepare.ts [2.x|1.x|all]
 */
import { main as installN8n } from './install';
import { ensureQueueServices } from './queue';
import { runWhenStarted } from '../runWhenStarted';

export async function main(argv: readonly string[] = []): Promise<void> {
	try {
		ensureQueueServices((line) => console.log(line));
	} catch (error) {
		// Without root only the queue-mode tests need them; they fail with this same message.
		console.log(`Skipped: ${error instanceof Error ? error.message : String(error)}`);
	}
	await installN8n(argv);
}

runWhenStarted(module, main);
