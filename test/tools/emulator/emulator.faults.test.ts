/**
 * Faults of the link between the node and the portal, over real HTTP: answers that go wrong after the portal
 * did the work, and jitter that lets concurrent calls overtake each other.
 */
import { describeEmulator, parseCliArgs } from '../../../tools/emulator/cli';
import {
	BAD_ANSWERS,
	FIRST_MESSAGE_ID,
	startEmulator,
	type BadAnswer,
	type Emulator,
	type RecordedMessage,
} from '../../../tools/emulator';
import { jitterDelays, mulberry32 } from '../../../tools/emulator/jitter';
import {
	obj,
	postJson,
	request,
	sleep,
	until,
	type HttpResult,
	SEND,
	VALID,
} from '../../../tools/emulator/testClient';

/** A batch command: method + `?` + URL-encoded query, the way the SDKs build it. */
const command = (method: string, params: Record<string, string | number>): string => {
	const query = Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]);
	return `${method}?${new URLSearchParams(query).toString()}`;
};

/** Per bad answer: the status, and a check of what arrived given the answer the portal really produced. */
const BAD: Readonly<
	Record<
		BadAnswer,
		{ status: number; error?: string; check: (res: HttpResult, real: string) => void }
	>
> = {
	html504: {
		status: 504,
		check: (res) => {
			expect(res.headers.get('content-type')).toMatch(/^text\/html/);
			expect(res.text).toContain('<title>504 Gateway Time-out</title>');
			expect(res.text).toContain('nginx');
		},
	},
	html502: {
		status: 502,
		check: (res) => {
			expect(res.headers.get('content-type')).toMatch(/^text\/html/);
			expect(res.text).toContain('<title>502 Bad Gateway</title>');
		},
	},
	empty200: {
		status: 200,
		check: (res) => {
			expect(res.headers.get('content-type')).toMatch(/^application\/json/);
			expect(res.text).toBe('');
		},
	},
	truncatedJson200: {
		status: 200,
		check: (res, real) => {
			expect(res.headers.get('content-type')).toMatch(/^application\/json/);
			expect(res.text).toBe(real.slice(0, Math.floor(real.length / 2)));
			expect(res.body).toBeUndefined();
		},
	},
	json500: {
		status: 500,
		error: 'INTERNAL_SERVER_ERROR',
		check: (res) => {
			expect(res.headers.get('content-type')).toMatch(/^application\/json/);
			expect(res.text).toBe(
				'{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}',
			);
		},
	},
};

describe('badAnswerAfterProcessing', () => {
	let emu: Emulator;
	// A frozen clock makes the real answer (its `time` block included) the same on every call.
	const clock = 1_767_225_600_000;
	beforeAll(async () => {
		emu = await startEmulator({ now: () => clock });
	});
	afterAll(async () => {
		await emu.close();
	});
	beforeEach(() => emu.reset());

	const send = () => postJson(`${emu.webhookUrl}${SEND}`, VALID);

	it.each(BAD_ANSWERS)('%s: the message IS stored, then the answer is replaced', async (answer) => {
		const real = await send();
		expect(real.body).toMatchObject({ result: FIRST_MESSAGE_ID });
		emu.reset();

		emu.injectFaults([{ kind: 'badAnswerAfterProcessing', answer }]);
		const res = await send();
		expect(res.status).toBe(BAD[answer].status);
		BAD[answer].check(res, real.text);
		expect(emu.messages).toEqual([
			expect.objectContaining({ id: FIRST_MESSAGE_ID, message: 'Hello' }),
		]);
		expect(emu.requests).toHaveLength(1);
		expect(emu.requests[0]).toMatchObject({
			fault: 'badAnswerAfterProcessing',
			status: BAD[answer].status,
		});
		expect(emu.requests[0]?.error).toBe(BAD[answer].error);
	});

	it.each(BAD_ANSWERS)('%s on batch: every command runs first', async (answer) => {
		emu.injectFaults([{ kind: 'badAnswerAfterProcessing', answer }], { method: 'batch' });
		const cmd = Object.fromEntries(
			[1, 2, 3].map((n) => [`m${n}`, command(SEND, { ...VALID, MESSAGE: `part ${n}` })]),
		);
		const res = await postJson(`${emu.webhookUrl}batch`, { halt: 0, cmd });
		expect(res.status).toBe(BAD[answer].status);
		expect(emu.messages.map((m) => m.message)).toEqual(['part 1', 'part 2', 'part 3']);
	});

	it('is consumed like the other faults: by the matching method, once', async () => {
		emu.injectFaults([{ kind: 'badAnswerAfterProcessing', answer: 'html504' }], { method: SEND });
		expect((await request(`${emu.webhookUrl}user.current`)).status).toBe(200);
		expect((await send()).status).toBe(504);
		expect((await send()).status).toBe(200);
		expect(emu.messages).toHaveLength(2);
		expect(emu.requests.map((r) => r.fault)).toEqual([
			undefined,
			'badAnswerAfterProcessing',
			undefined,
		]);
	});

	it('the control API accepts it and checks `answer`', async () => {
		const inject = (faults: unknown) =>
			postJson(`${emu.baseUrl}/_emulator/faults`, { faults, method: SEND });
		const kind = 'badAnswerAfterProcessing';
		for (const bad of [{ kind }, { kind, answer: 'html503' }, { kind, answer: 504 }]) {
			const rejected = await inject([bad]);
			expect(rejected.status).toBe(400);
			expect(rejected.body).toEqual({
				error: 'BAD_REQUEST',
				error_description: 'faults[0] is not a valid fault',
			});
		}
		const accepted = await inject([{ kind, answer: 'empty200' }]);
		expect(accepted.body).toEqual({ ok: true, pendingFaults: 1 });
		const res = await send();
		expect([res.status, res.text]).toEqual([200, '']);
		expect(emu.messages).toHaveLength(1);
	});
});

describe('jitter', () => {
	const PARTS = Array.from({ length: 30 }, (_, i) => `part ${i + 1}`);

	/** Send every part at once to the same chat; resolves with the statuses in sending order. */
	const sendConcurrently = async (emu: Emulator): Promise<number[]> => {
		const answers = await Promise.all(
			PARTS.map((MESSAGE) => postJson(`${emu.webhookUrl}${SEND}`, { ...VALID, MESSAGE })),
		);
		return answers.map((a) => a.status);
	};
	const texts = (messages: readonly RecordedMessage[]): string[] => messages.map((m) => m.message);
	/** The parts in the order the emulator received them (requests are recorded on arrival). */
	const arrivalOrder = (emu: Emulator): string[] =>
		emu.requests.map((r) => String(r.params.MESSAGE));

	it('jitterMs 40: 30 concurrent sends are processed out of order, and all arrive', async () => {
		const emu = await startEmulator({ jitterMs: 40, jitterSeed: 7 });
		try {
			expect(await sendConcurrently(emu)).toEqual(PARTS.map(() => 200));
			expect(texts(emu.messages)).not.toEqual(PARTS);
			expect(texts(emu.messages)).not.toEqual(arrivalOrder(emu));
			expect([...texts(emu.messages)].sort()).toEqual([...PARTS].sort());
		} finally {
			await emu.close();
		}
	});

	it('setJitter, POST /_emulator/jitter, and reset() back to the start-up setting (none)', async () => {
		const emu = await startEmulator();
		try {
			// Without jitter a call is processed as soon as it has arrived.
			await sendConcurrently(emu);
			expect(texts(emu.messages)).toEqual(arrivalOrder(emu));

			emu.reset();
			emu.setJitter(40, 7);
			await sendConcurrently(emu);
			expect(texts(emu.messages)).not.toEqual(arrivalOrder(emu));
			expect(emu.messages).toHaveLength(30);

			emu.reset();
			await sendConcurrently(emu);
			expect(texts(emu.messages)).toEqual(arrivalOrder(emu));

			emu.reset();
			const set = await postJson(`${emu.baseUrl}/_emulator/jitter`, { maxMs: 40, seed: 3 });
			expect(set.body).toEqual({ ok: true });
			await sendConcurrently(emu);
			expect(texts(emu.messages)).not.toEqual(arrivalOrder(emu));
		} finally {
			await emu.close();
		}
	});

	it('the control route validates maxMs and seed', async () => {
		const emu = await startEmulator();
		try {
			for (const [body, description] of [
				[{}, 'maxMs must be a number >= 0'],
				[{ maxMs: -1 }, 'maxMs must be a number >= 0'],
				[{ maxMs: '40' }, 'maxMs must be a number >= 0'],
				[{ maxMs: 40, seed: 1.5 }, 'seed must be an integer'],
			] as const) {
				const res = await postJson(`${emu.baseUrl}/_emulator/jitter`, body);
				expect(res.status).toBe(400);
				expect(obj(res.body).error_description).toBe(description);
			}
		} finally {
			await emu.close();
		}
	});

	it('holds REST calls only: the control API and the OAuth endpoints answer at once', async () => {
		const emu = await startEmulator({ jitterMs: 60_000 });
		try {
			expect((await request(`${emu.baseUrl}/_emulator/state`)).status).toBe(200);
			expect((await request(`${emu.authorizeUrl}?client_id=nobody`)).status).toBe(400);
		} finally {
			await emu.close();
		}
	});

	it('holds before the fault queue: a later call that overtakes takes the fault', async () => {
		const seed = 120;
		const hold = jitterDelays(200, seed);
		expect([hold(), hold()]).toEqual([189, 2]);
		const emu = await startEmulator({ jitterMs: 200, jitterSeed: seed });
		try {
			emu.injectFaults([{ kind: 'status', status: 500 }], { method: SEND });
			const first = postJson(`${emu.webhookUrl}${SEND}`, { ...VALID, MESSAGE: 'first' });
			await until(() => emu.requests.length === 1);
			const second = postJson(`${emu.webhookUrl}${SEND}`, { ...VALID, MESSAGE: 'second' });
			expect([(await first).status, (await second).status]).toEqual([200, 500]);
			expect(emu.requests.map((r) => [r.params.MESSAGE, r.fault])).toEqual([
				['first', undefined],
				['second', 'status'],
			]);
		} finally {
			await emu.close();
		}
	});

	it('close() clears the hold: a held call is never processed', async () => {
		const seed = 1;
		expect(jitterDelays(1000, seed)()).toBe(627);
		const emu = await startEmulator({ jitterMs: 1000, jitterSeed: seed });
		const pending = postJson(`${emu.webhookUrl}${SEND}`, VALID).then(
			() => 'answered',
			() => 'failed',
		);
		await until(() => emu.requests.length === 1);
		await emu.close();
		expect(await pending).toBe('failed');
		await sleep(800);
		expect(emu.messages).toHaveLength(0);
	});

	it('mulberry32 repeats per seed; holds are whole ms in 0..maxMs, always 0 for maxMs 0', () => {
		const a = mulberry32(42);
		const b = mulberry32(42);
		const sequence = Array.from({ length: 5 }, () => a());
		expect(Array.from({ length: 5 }, () => b())).toEqual(sequence);
		expect(Array.from({ length: 5 }, mulberry32(43))).not.toEqual(sequence);

		const hold = jitterDelays(40, 42);
		const holds = Array.from({ length: 1000 }, () => hold());
		expect(holds.every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= 40)).toBe(true);
		expect(new Set(holds)).toEqual(new Set(Array.from({ length: 41 }, (_, i) => i)));
		const none = jitterDelays(0, 42);
		expect([none(), none(), none()]).toEqual([0, 0, 0]);
	});

	it('npm run emulator accepts --jitter and lists the control route', async () => {
		expect(parseCliArgs(['--jitter', '40'])).toEqual({ jitterMs: 40 });
		expect(parseCliArgs(['--jitter=0', '--port', '0'])).toEqual({ jitterMs: 0, port: 0 });
		expect(() => parseCliArgs(['--jitter'])).toThrow('--jitter needs a number');
		expect(() => parseCliArgs(['--seed', '1'])).toThrow(
			'Unknown argument --seed (use --port, --burst, --rate, --jitter)',
		);
		const emu = await startEmulator(parseCliArgs(['--jitter', '40']));
		try {
			expect(describeEmulator(emu)).toContain(`POST ${emu.baseUrl}/_emulator/jitter`);
		} finally {
			await emu.close();
		}
	});
});
