/**
 * End-to-end: the Open Channels Trigger in a real n8n server (`n8n start`) of each line (2.41.1 and 1.123.81),
 * against the emulated portal. Instant mode: activating registers the bot at n8n's production URL; a customer
 * message the emulator posts there starts an execution; forged posts start none; a restart of n8n creates no
 * second bot; deactivating stops the posts. Polling mode: each event once, from n8n's poll schedule (at least a
 * minute apart in n8n).
 */
import { CHATS, OPEN_LINES, SEEDED_BOT_IDS, type Emulator } from '../../tools/emulator';
import { request } from '../../tools/emulator/testClient';
import { parseExecutionData, type JsonObject } from '../../tools/n8n/runner';
import { TRIGGER_NODE, triggerToNoOp } from '../../tools/n8n/workflows';
import { openEditorLine, type EditorLine } from './support/editorServer';
import { linesUnderTest, printTimings, progress, timed, waitFor } from './support/harness';

let line: EditorLine;
let credentialId = '';
let stopRestarted: (() => Promise<void>) | undefined;

afterAll(() => printTimings());

/** Saves a workflow "trigger -> No Operation" and activates (publishes) it; returns its ID. */
async function activeWorkflow(name: string, parameters: JsonObject): Promise<string> {
	const workflow = triggerToNoOp({
		name,
		parameters,
		credential: { id: credentialId, name: 'Bitrix24 webhook (trigger e2e)' },
	});
	const saved = await line.client.rest<{ id: string; versionId: string }>(
		'POST',
		'/rest/workflows',
		workflow,
	);
	await line.client.rest('POST', `/rest/workflows/${saved.id}/activate`, {
		versionId: saved.versionId,
	});
	return saved.id;
}

/** The texts the trigger emitted, per finished execution of the workflow, oldest first. */
async function emittedTexts(workflowId: string): Promise<string[][]> {
	const list = await line.client.rest<{ results: Array<{ id: string; status: string }> }>(
		'GET',
		`/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
	);
	const finished = list.results.filter((e) => e.status === 'success').reverse();
	const texts: string[][] = [];
	for (const { id } of finished) {
		const execution = await line.client.rest<{ data: string }>('GET', `/rest/executions/${id}`);
		const data = parseExecutionData(line.installed, execution.data);
		const items = data.resultData.runData[TRIGGER_NODE]?.[0]?.data?.main?.[0] ?? [];
		texts.push(items.map((item) => String(item.json.text)));
	}
	return texts;
}

/** The bots registered so far (the portal's seeded bots aside). */
const bots = (emulator: Emulator) =>
	emulator.world.imbot.registered.filter((b) => !SEEDED_BOT_IDS.includes(b.id));

/** waitFor, and on a timeout the portal's calls so far (method, status, error) in the message. */
async function waitForPortal<T>(
	emulator: Emulator,
	what: string,
	check: () => Promise<T | undefined>,
	timeoutMs?: number,
): Promise<T> {
	try {
		return await waitFor(what, check, timeoutMs);
	} catch (error) {
		const calls = emulator.requests.map(
			(r) =>
				`${r.restMethod}${r.params.offset === undefined ? '' : `(offset ${String(r.params.offset)})`} ${r.status} ${r.error ?? ''}`,
		);
		throw new Error(`${String(error)}; portal calls: ${calls.join(', ') || 'none'}`);
	}
}

async function customerWrites(chatId: number, text: string): Promise<void> {
	line.emulator.bots.customerWrites(chatId, text);
	await line.emulator.bots.settled();
}

describe.each(linesUnderTest())(
	'Bitrix24 Open Channels Trigger in a real n8n %s server',
	(lineName) => {
		beforeAll(async () => {
			line = await timed(
				`${lineName}: start n8n server and set up the owner`,
				async () => await openEditorLine(lineName),
			);
			const created = await line.client.rest<{ id: string }>('POST', '/rest/credentials', {
				name: 'Bitrix24 webhook (trigger e2e)',
				type: 'bitrix24WebhookApi',
				data: { webhookUrl: line.emulator.webhookUrl },
			});
			credentialId = created.id;
		});

		afterAll(async () => {
			await stopRestarted?.();
			stopRestarted = undefined;
			await line?.close();
		});

		it('instant mode: activation, executions, forged posts, restart without a second bot, deactivation', async () => {
			const { emulator } = line;
			const workflowId = await activeWorkflow('Open channel bot (instant)', {
				mode: 'instant',
				events: ['message'],
				botCode: 'n8n_e2e_instant',
				attachTo: {
					channels: [{ line: { __rl: true, mode: 'id', value: String(OPEN_LINES.SUPPORT) } }],
				},
			});
			// n8n 2.x publishes in the background: the activation's hooks may run after the API call returns.
			const bot = await waitForPortal(emulator, 'the bot registered at activation', async () =>
				bots(emulator).find((b) => b.code === 'n8n_e2e_instant' && b.eventMode === 'webhook'),
			);
			await waitForPortal(emulator, 'the bot attached to Customer support', async () =>
				emulator.world.imbot.lines[0]?.welcomeBotId === bot.id ? true : undefined,
			);
			expect(bots(emulator)).toHaveLength(1);
			expect(bot?.webhookUrl.startsWith(`${line.baseUrl}/webhook/`)).toBe(true);

			await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Hello from Telegram');
			expect(emulator.world.imbot.deliveries.map((d) => [d.type, d.status])).toEqual([
				['ONIMBOTV2JOINCHAT', 200],
				['ONIMBOTV2MESSAGEADD', 200],
			]);
			const genuine = emulator.world.imbot.deliveries[1]?.body ?? '';
			// Forged: without the URL's secret, or with another application_token.
			const noSecret = bot?.webhookUrl.replace(/\?.*$/, '') ?? '';
			expect((await request(noSecret, { body: { form: genuine } })).status).toBe(403);
			const forgedToken = genuine.split(bot?.applicationToken ?? '').join('f'.repeat(32));
			expect((await request(bot?.webhookUrl ?? '', { body: { form: forgedToken } })).status).toBe(
				403,
			);
			await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Second message');
			const texts = await waitFor('two executions', async () => {
				const found = await emittedTexts(workflowId);
				return found.length >= 2 ? found : undefined;
			});
			expect(texts).toEqual([['Hello from Telegram'], ['Second message']]);

			// n8n restarts: the active workflow is activated again ("init"), and finds its bot.
			const registers = emulator.requests.filter((r) => r.restMethod === 'imbot.v2.bot.register');
			await line.editor.stop();
			const port = Number(new URL(line.baseUrl).port);
			const editor = await line.session.startEditor(port);
			stopRestarted = async () => await editor.stop();
			await waitFor('n8n to answer after the restart', async () => {
				const answer = await line.client.request('POST', '/rest/login', {
					body: { emailOrLdapLoginId: 'owner@bitrix24-e2e.test', password: 'Bitrix24-e2e-1' },
				});
				return answer.status === 200 ? true : undefined;
			});
			// Active workflows come back in the background: the node answers (403 without the secret) once it is there.
			await waitFor('the trigger webhook after the restart', async () =>
				(await request(noSecret, { body: { form: '' } })).status === 403 ? true : undefined,
			);
			await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'After the restart');
			const afterRestart = await waitFor('the execution after the restart', async () => {
				const found = await emittedTexts(workflowId);
				return found.length >= 3 ? found : undefined;
			});
			expect(afterRestart.at(-1)).toEqual(['After the restart']);
			expect(bots(emulator)).toHaveLength(1);
			expect(
				emulator.requests.filter((r) => r.restMethod === 'imbot.v2.bot.register'),
			).toHaveLength(registers.length);

			// Deactivated: the bot keeps its ID and stops posting.
			await line.client.rest('POST', `/rest/workflows/${workflowId}/deactivate`, {});
			await waitFor('the bot switched to fetch', async () =>
				bots(emulator)[0]?.eventMode === 'fetch' ? true : undefined,
			);
			expect(bots(emulator)[0]).toMatchObject({ id: bot?.id, eventMode: 'fetch' });
			const posted = emulator.world.imbot.deliveries.length;
			await customerWrites(CHATS.LEAD_TELEGRAM_ACTIVE, 'Nobody listens');
			expect(emulator.world.imbot.deliveries).toHaveLength(posted);
			progress(`trigger e2e: instant mode done; n8n restarted on port ${port}`);
		});

		it('polling mode: each event once, no backlog', async () => {
			const { emulator } = line;
			// Waiting in the bot's queue before the workflow exists: never emitted.
			const workflowId = await activeWorkflow('Open channel bot (polling)', {
				mode: 'polling',
				pollTimes: { item: [{ mode: 'everyMinute' }] },
				events: ['message'],
				botCode: 'n8n_e2e_polling',
				attachTo: {
					channels: [{ line: { __rl: true, mode: 'id', value: String(OPEN_LINES.SALES) } }],
				},
			});
			// The activation's test poll registers the bot in fetch mode and attaches it.
			const pollingBot = await waitForPortal(emulator, 'the polling bot', async () =>
				bots(emulator).find((b) => b.code === 'n8n_e2e_polling' && b.eventMode === 'fetch'),
			);
			await waitFor('the bot attached to Sales', async () =>
				emulator.world.imbot.lines[1]?.welcomeBotId === pollingBot.id ? true : undefined,
			);
			await customerWrites(CHATS.DEAL_TELEGRAM_ACTIVE, 'Polled one');
			await customerWrites(CHATS.DEAL_TELEGRAM_ACTIVE, 'Polled two');
			const polls = () => emulator.requests.filter((r) => r.restMethod === 'imbot.v2.event.get');
			const emitted = await waitForPortal(
				emulator,
				'the polled messages',
				async () => {
					const found = (await emittedTexts(workflowId)).flat();
					return found.length >= 2 ? found : undefined;
				},
				150_000,
			);
			expect(emitted).toEqual(['Polled one', 'Polled two']);
			// One more poll: nothing emitted twice.
			const seen = polls().length;
			await waitFor(
				'one more poll',
				async () => (polls().length > seen ? true : undefined),
				150_000,
			);
			await line.client.rest('POST', `/rest/workflows/${workflowId}/deactivate`, {});
			expect((await emittedTexts(workflowId)).flat()).toEqual(['Polled one', 'Polled two']);
			expect(emulator.world.imbot.deliveries.filter((d) => d.botId === pollingBot.id)).toEqual([]);
		});
	},
);
