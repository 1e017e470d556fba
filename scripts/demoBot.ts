/**
 * `npm run demo:bot`: the example bot (examples/open-channel-bot.workflow.json) active in a real n8n 2.41.1 server
 * against an emulated Bitrix24 portal. Customers write into two open-channel chats; the emulator posts each message
 * to n8n as Bitrix24 posts a bot's events; the conversation is printed as it happens: the customer's messages, the
 * bot's answers, the hand-over to an operator, the finished dialog. Exits non-zero if a message goes unanswered or
 * the hand-over or the finish does not happen; n8n and the emulator are stopped either way.
 *
 *   npx tsx scripts/demoBot.ts [--keep]
 */
import { addLineDialogs, startEmulator, type Emulator } from '../tools/emulator';
import { startActiveServer, type ActiveServer } from '../tools/n8n/activeServer';
import { PACKAGE_NAME } from '../tools/n8n/runner';
import { loadBotExample, type Workflow } from '../tools/n8n/workflows';
import { runWhenStarted } from '../tools/runWhenStarted';

const TRIGGER_TYPE = `${PACKAGE_NAME}.bitrix24OpenChannelsTrigger`;

/** The Bot Token the demo's credential carries: the trigger registers the bot with it, Bot Dialog acts with it. */
const DEMO_BOT_TOKEN = 'n8n-demo-bot-token-3b8e1d5a7c';

/** What each customer writes, in order; the example answers keywords, hands over on "operator", finishes on "bye". */
const CONVERSATIONS: ReadonlyArray<{
	title: string;
	texts: string[];
	ends: 'handOver' | 'finish';
}> = [
	{
		title: 'asks for a human',
		texts: ['hello', 'where is my order', 'operator'],
		ends: 'handOver',
	},
	{ title: 'says goodbye', texts: ['hello', 'bye'], ends: 'finish' },
];

/** How long a step may take (n8n runs the workflow per message) and the quiet time that ends a step. */
const STEP_TIMEOUT_MS = 30_000;
const QUIET_MS = 1_500;

const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

interface TriggerSetup {
	credential: { id: string; name: string };
	botCode: string;
	lineId: number;
}

/** What the demo needs from the example's trigger: its credential, bot code and first open channel. */
function triggerSetupOf(workflow: Workflow): TriggerSetup {
	const trigger = workflow.nodes.find((node) => node.type === TRIGGER_TYPE);
	const credential = trigger?.credentials?.bitrix24WebhookApi;
	const channels = (
		trigger?.parameters.attachTo as { channels?: Array<{ line?: { value?: unknown } }> }
	)?.channels;
	const lineId = Number(channels?.[0]?.line?.value);
	if (!trigger || !credential || !Number.isInteger(lineId))
		throw new Error(
			`${workflow.name}: expected an Open Channels Trigger with a webhook credential and an open channel to attach to`,
		);
	return { credential, botCode: String(trigger.parameters.botCode ?? ''), lineId };
}

/** Everything that happened in the chat after `from` messages / session events: bot lines and session changes. */
function activityOf(emulator: Emulator, chatId: number, customerId: number) {
	const { imbot } = emulator.world;
	const dialog = imbot.dialogs.find((d) => d.chatId === chatId);
	return {
		botMessages: (dialog?.messages ?? []).filter((m) => m.authorId !== customerId && !m.system),
		sessionEvents: imbot.sessionEvents.filter((event) => event.chatId === chatId),
	};
}

const SESSION_EVENT_TEXT: Record<string, string> = {
	operator: "handed over to the open channel's operators (the bot left the chat)",
	finish: 'dialog finished by the bot',
	transfer: 'transferred',
};

/** One customer's conversation: each message, then what the bot did, printed; returns the problems seen. */
async function converse(
	emulator: Emulator,
	chatId: number,
	conversation: (typeof CONVERSATIONS)[number],
): Promise<string[]> {
	const dialog = emulator.world.imbot.dialogs.find((d) => d.chatId === chatId);
	if (!dialog) throw new Error(`Chat ${chatId} is not an open-channel chat`);
	const problems: string[] = [];
	console.log(`\nChat ${chatId}: ${dialog.customerName} ${conversation.title}`);
	for (const text of conversation.texts) {
		const before = activityOf(emulator, chatId, dialog.customerId);
		console.log(`  customer: ${text}`);
		emulator.bots.customerWrites(chatId, text);
		// The step ends once the bot did something and then nothing more for QUIET_MS.
		const deadline = Date.now() + STEP_TIMEOUT_MS;
		let seen = 0;
		let quietSince = Date.now();
		for (;;) {
			const now = activityOf(emulator, chatId, dialog.customerId);
			const count = now.botMessages.length + now.sessionEvents.length;
			if (count !== seen) [seen, quietSince] = [count, Date.now()];
			const acted = count > before.botMessages.length + before.sessionEvents.length;
			if ((acted && Date.now() - quietSince >= QUIET_MS) || Date.now() > deadline) break;
			await sleep(100);
		}
		const after = activityOf(emulator, chatId, dialog.customerId);
		const replies = after.botMessages.slice(before.botMessages.length);
		const events = after.sessionEvents.slice(before.sessionEvents.length);
		for (const reply of replies)
			console.log(`  bot:      ${reply.text.replace(/\n/g, '\n            ')}`);
		for (const event of events) console.log(`  -- ${SESSION_EVENT_TEXT[event.kind] ?? event.kind}`);
		if (replies.length + events.length === 0)
			problems.push(`"${text}" in chat ${chatId} got no answer`);
	}
	const kinds = activityOf(emulator, chatId, dialog.customerId).sessionEvents.map((e) => e.kind);
	const wanted = conversation.ends === 'handOver' ? 'operator' : 'finish';
	if (!kinds.includes(wanted))
		problems.push(
			`chat ${chatId}: no ${conversation.ends === 'handOver' ? 'hand-over' : 'finish'}`,
		);
	return problems;
}

export async function main(argv: readonly string[] = []): Promise<void> {
	const keep = argv.includes('--keep');
	const unknown = argv.filter((arg) => arg !== '--keep');
	if (unknown.length > 0) throw new Error(`Unknown argument ${unknown[0]} (use --keep)`);
	const started = Date.now();
	const example = loadBotExample();
	const setup = triggerSetupOf(example);
	console.log(
		`Bitrix24 Open Channels bot demo: "${example.name}" active in a real n8n, against an emulated Bitrix24 portal\n`,
	);
	const emulator = await startEmulator();
	let server: ActiveServer | undefined;
	let ok = false;
	try {
		console.log(`Emulated Bitrix24 portal: ${emulator.baseUrl}`);
		server = await startActiveServer({
			name: 'demo-bot',
			credentials: [
				{
					...setup.credential,
					type: 'bitrix24WebhookApi',
					data: { webhookUrl: emulator.webhookUrl, botToken: DEMO_BOT_TOKEN },
				},
			],
			workflows: [example],
			log: (line) => console.log(line),
		});
		console.log(`n8n: ${server.baseUrl} (user folder ${server.session.userFolder})`);
		const { imbot } = emulator.world;
		// n8n activates the workflow in the background after it starts: the trigger registers its bot at n8n's URL.
		const deadline = Date.now() + 120_000;
		let botId: number | undefined;
		while (botId === undefined) {
			const bot = imbot.registered.find(
				(b) => b.code === setup.botCode && b.eventMode === 'webhook',
			);
			const line = imbot.lines.find((l) => l.id === setup.lineId);
			if (bot && line?.welcomeBotId === bot.id) botId = bot.id;
			else if (Date.now() > deadline)
				throw new Error('The trigger did not set up its bot within 2 minutes');
			else await sleep(250);
		}
		const line = imbot.lines.find((l) => l.id === setup.lineId);
		console.log(
			`The trigger registered bot ${botId} ("${setup.botCode}") at n8n's webhook URL and made it the welcome bot of ` +
				`open channel ${setup.lineId} ("${line?.name ?? ''}")`,
		);
		// Fresh chats on the bot's open channel: nobody holds them, the bot joins at the first message.
		const chats = addLineDialogs(emulator.world, setup.lineId, CONVERSATIONS.length, 'Guest');
		const problems: string[] = [];
		for (const [index, conversation] of CONVERSATIONS.entries())
			problems.push(...(await converse(emulator, chats[index] ?? 0, conversation)));
		await emulator.bots.settled();
		const delivered = imbot.deliveries.filter((d) => d.botId === botId);
		console.log(
			`\n${delivered.length} events posted to n8n (${delivered.filter((d) => d.status === 200).length} answered 200); ` +
				`${emulator.requests.filter((r) => r.restMethod?.startsWith('imbot.v2.chat') || r.restMethod?.startsWith('imopenlines.bot')).length} ` +
				'bot calls from n8n reached the portal.',
		);
		if (problems.length > 0)
			throw new Error(`The demo did not go as expected: ${problems.join('; ')}`);
		ok = true;
		console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
	} finally {
		await server?.stop({ keep: keep || !ok });
		await emulator.close();
		if (server && (keep || !ok)) console.log(`n8n user folder kept: ${server.session.userFolder}`);
	}
}

runWhenStarted(module, main);
