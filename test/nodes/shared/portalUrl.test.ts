import { Bitrix24Failure, describeFailure, hintFor } from '../../../nodes/shared/errors';
import { webhookRestBase } from '../../../nodes/shared/portalUrl';

/** A distinctive webhook code: no error text may ever contain it. */
const SECRET = 'Zk8sEcReT0wq5';

function failureOf(url: unknown): Bitrix24Failure {
	let thrown: unknown;
	try {
		webhookRestBase(url);
	} catch (error) {
		thrown = error;
	}
	expect(thrown).toBeInstanceOf(Bitrix24Failure);
	return thrown as Bitrix24Failure;
}

/** Every text a person or a log could see about the failure. */
function visibleTexts(failure: Bitrix24Failure): string[] {
	return [
		failure.message,
		failure.description,
		describeFailure(failure, {}),
		hintFor(failure),
		JSON.stringify(failure.details),
		String(failure.stack),
	];
}

describe('webhookRestBase', () => {
	describe('accepted URLs', () => {
		it.each([
			[
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz/',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz//',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz/profile.json',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz/user.current',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz/imopenlines.crm.message.add.json',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz/profile.json/',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'  https://yourcompany.bitrix24.com/rest/1/abc123xyz/  ',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'\n\thttps://yourcompany.bitrix24.com/rest/1/abc123xyz/\n',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://YourCompany.Bitrix24.COM/rest/1/abc123xyz/',
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz',
			],
			[
				'https://portal.example.com:8443/rest/27/abc_123/',
				'https://portal.example.com:8443/rest/27/abc_123',
			],
			['https://portal.example.com:443/rest/1/abc/', 'https://portal.example.com/rest/1/abc'],
			['http://127.0.0.1:8080/rest/1/x/', 'http://127.0.0.1:8080/rest/1/x'],
			['http://localhost/rest/1/x/', 'http://localhost/rest/1/x'],
			['http://localhost:3000/rest/1/x/profile.json', 'http://localhost:3000/rest/1/x'],
			['http://10.1.2.3/rest/1/x/', 'http://10.1.2.3/rest/1/x'],
			['http://192.168.0.5/rest/1/x/', 'http://192.168.0.5/rest/1/x'],
			['http://172.16.0.1/rest/1/x/', 'http://172.16.0.1/rest/1/x'],
			['http://172.31.255.254/rest/1/x/', 'http://172.31.255.254/rest/1/x'],
			['http://bitrix.local/rest/1/x/', 'http://bitrix.local/rest/1/x'],
			['http://[::1]:8080/rest/1/x/', 'http://[::1]:8080/rest/1/x'],
		])('%j -> %j', (url, base) => {
			expect(webhookRestBase(url)).toBe(base);
		});

		it('gives a base that method names can be appended to', () => {
			const base = webhookRestBase(
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz/profile.json',
			);
			expect(new URL('imopenlines.crm.message.add.json', `${base}/`).href).toBe(
				'https://yourcompany.bitrix24.com/rest/1/abc123xyz/imopenlines.crm.message.add.json',
			);
		});
	});

	describe('refused URLs', () => {
		it.each([
			['public host over http', `http://yourcompany.bitrix24.com/rest/1/${SECRET}/`],
			['public IP over http', `http://8.8.8.8/rest/1/${SECRET}/`],
			['172.32.x (outside the private range) over http', `http://172.32.0.1/rest/1/${SECRET}/`],
			[
				'a host that only starts like a private IP',
				`http://10.0.0.1.example.com/rest/1/${SECRET}/`,
			],
			['not a URL', `yourcompany.bitrix24.com/rest/1/${SECRET}/`],
			['words', `my webhook is ${SECRET}`],
			['ftp', `ftp://yourcompany.bitrix24.com/rest/1/${SECRET}/`],
			['javascript', `javascript:alert('${SECRET}')`],
			['user id not numeric', `https://yourcompany.bitrix24.com/rest/abc/${SECRET}/`],
			['not under /rest', `https://yourcompany.bitrix24.com/api/1/${SECRET}/`],
			['no code', 'https://yourcompany.bitrix24.com/rest/1/'],
			['method instead of code', 'https://yourcompany.bitrix24.com/rest/1/user.current'],
			['two segments after the code', `https://yourcompany.bitrix24.com/rest/1/${SECRET}/a/b/`],
			['characters a code cannot have', `https://yourcompany.bitrix24.com/rest/1/${SECRET}-x/`],
			['query string', `https://yourcompany.bitrix24.com/rest/1/${SECRET}/?a=1`],
			['code in the query string', `https://yourcompany.bitrix24.com/rest/1/abc/?auth=${SECRET}`],
			['hash', `https://yourcompany.bitrix24.com/rest/1/${SECRET}/#top`],
			['user info', `https://admin:pw@yourcompany.bitrix24.com/rest/1/${SECRET}/`],
			['code as the user name', `https://${SECRET}@yourcompany.bitrix24.com/rest/1/abc/`],
		])('%s', (_label, url) => {
			const failure = failureOf(url);
			expect(failure.code).toBe('INVALID_WEBHOOK_URL');
			expect(failure.httpStatus).toBeNull();
			expect(failure.argument).toBeUndefined();
			expect(failure.description).toMatch(/^The Webhook URL /);
			for (const text of visibleTexts(failure)) expect(text).not.toContain(SECRET);
			expect(describeFailure(failure, {})).toBe(`${failure.description} (INVALID_WEBHOOK_URL)`);
		});

		it('explains http on a public host: names https and the host', () => {
			const failure = failureOf(`http://yourcompany.bitrix24.com/rest/1/${SECRET}/`);
			expect(failure.description).toContain('https://');
			expect(failure.description).toContain('yourcompany.bitrix24.com');
			expect(failure.description).not.toContain(SECRET);
		});

		it('names the wrong scheme', () => {
			expect(failureOf(`ftp://yourcompany.bitrix24.com/rest/1/${SECRET}/`).description).toContain(
				'ftp:',
			);
		});

		it('explains the expected path shape', () => {
			expect(failureOf(`https://yourcompany.bitrix24.com/api/1/${SECRET}/`).description).toContain(
				'/rest/<user id>/<webhook code>/',
			);
		});

		it.each([
			['empty', ''],
			['whitespace', '   '],
			['undefined', undefined],
			['null', null],
			['a number', 42],
			['an object', { url: `https://yourcompany.bitrix24.com/rest/1/${SECRET}/` }],
		])('refuses %s as empty', (_label, value) => {
			const failure = failureOf(value);
			expect(failure.code).toBe('INVALID_WEBHOOK_URL');
			expect(failure.description).toContain('empty');
			for (const text of visibleTexts(failure)) expect(text).not.toContain(SECRET);
		});
	});
});
