/**
 * Start the emulator from a terminal: `npm run emulator -- [--port N] [--burst N] [--rate N] [--jitter MS]`.
 * Prints the URLs to configure n8n credentials with and stays up until SIGINT/SIGTERM.
 */
import { OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_REDIRECT_URI } from './constants';
import { startEmulator } from './server';
import type { Emulator, EmulatorOptions } from './types';
import { runWhenStarted } from '../runWhenStarted';

const FLAGS: Readonly<Record<string, keyof EmulatorOptions>> = {
	'--port': 'port',
	'--burst': 'burstLimit',
	'--rate': 'requestsPerSecond',
	'--jitter': 'jitterMs',
};

/** `--port 8080` or `--port=8080`; throws on unknown flags or non-numeric values. */
export function parseCliArgs(argv: readonly string[]): EmulatorOptions {
	const options: Record<string, number> = {};
	for (let i = 0; i < argv.length; i++) {
		const [flag = '', inline] = (argv[i] ?? '').split('=', 2);
		const key = FLAGS[flag];
		if (key === undefined)
			throw new Error(`Unknown argument ${argv[i] ?? ''} (use ${Object.keys(FLAGS).join(', ')})`);
		const raw = inline ?? argv[++i];
		const value = Number(raw);
		if (raw === undefined || raw === '' || !Number.isFinite(value) || value < 0)
			throw new Error(`${flag} needs a number`);
		options[key] = value;
	}
	return options;
}

export function describeEmulator(emulator: Emulator): string {
	const control = `${emulator.baseUrl}/_emulator`;
	return [
		'Bitrix24 emulator is running',
		`  Portal base URL:   ${emulator.baseUrl}`,
		`  Webhook URL:       ${emulator.webhookUrl}`,
		`  Limited webhook:   ${emulator.limitedWebhookUrl}  (scopes crm,user only)`,
		'  OAuth2:',
		`    Client ID:       ${OAUTH_CLIENT_ID}`,
		`    Client secret:   ${OAUTH_CLIENT_SECRET}`,
		`    Authorize URL:   ${emulator.authorizeUrl}`,
		`    Token URL:       ${emulator.tokenUrl}`,
		`    Redirect URI:    ${OAUTH_REDIRECT_URI} (any redirect_uri is accepted)`,
		'  Control API:',
		`    GET  ${control}/state          POST ${control}/faults {"faults":[...],"method":"..."}`,
		`    POST ${control}/budget {"burstLimit":50,"requestsPerSecond":2}`,
		`    POST ${control}/jitter {"maxMs":40,"seed":1}`,
		`    POST ${control}/reset   POST ${control}/expire-tokens   POST ${control}/tokens`,
		`    POST ${control}/customer-message {"chatId":1341,"text":"Hi"}  (a customer writes; bots get events)`,
		`    POST ${control}/edit-message {"messageId":19880117,"text":"..."}   GET ${control}/bots`,
		`  Try: curl '${emulator.webhookUrl}user.current'`,
	].join('\n');
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<Emulator> {
	const emulator = await startEmulator(parseCliArgs(argv));
	console.log(describeEmulator(emulator));
	const stop = (signal: NodeJS.Signals): void => {
		console.log(`\n${signal}: stopping the emulator`);
		emulator.close().then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			},
		);
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	return emulator;
}

runWhenStarted(module, main);
