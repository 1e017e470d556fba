/**
 * A real n8n 2.x server (`n8n start`, regular mode) whose workflows are active from the start, as in production:
 * credentials and workflows imported, each workflow published (`n8n publish:workflow`) before the server starts,
 * so n8n activates their triggers at start-up (in the background: the caller waits for what it needs, e.g. a
 * trigger's bot registered at the portal). No owner account: nothing here goes through the editor's API.
 */
import { ensureN8n, type Log } from './install';
import { N8nSession, freePort, type EditorProcess, type JsonObject } from './runner';
import type { Workflow } from './workflows';

export interface ActiveServer {
	session: N8nSession;
	editor: EditorProcess;
	/** http://127.0.0.1:<port>: n8n's production webhooks are under `${baseUrl}/webhook/`. */
	baseUrl: string;
	/** Stops n8n (and its task runner); removes the user folder unless `keep`. */
	stop(options?: { keep?: boolean }): Promise<void>;
}

export async function startActiveServer(setup: {
	/** A short name for the run folder. */
	name: string;
	credentials: JsonObject[];
	workflows: Workflow[];
	log?: Log;
	/** n8n's output lines (verbose runs). */
	onOutput?: (line: string) => void;
	/** n8n settings beyond the line's (e.g. `N8N_EXPRESSION_ENGINE`). */
	env?: Record<string, string>;
}): Promise<ActiveServer> {
	const log = setup.log ?? (() => undefined);
	const installed = await ensureN8n('2.x', log);
	const session = await N8nSession.open(installed, { name: setup.name, log, env: setup.env });
	try {
		await session.importCredentials(setup.credentials);
		await session.importWorkflows(setup.workflows);
		for (const { id } of setup.workflows)
			await session.command(['publish:workflow', `--id=${id}`], { label: `publish ${id}` });
		const port = await freePort();
		const editor = await session.startEditor(port, { onOutput: setup.onOutput });
		return {
			session,
			editor,
			baseUrl: `http://127.0.0.1:${port}`,
			stop: async ({ keep = false } = {}) => {
				await editor.stop();
				if (!keep) session.remove();
			},
		};
	} catch (error) {
		session.remove();
		throw error;
	}
}
