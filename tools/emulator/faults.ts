/** Injected failures: a queue in which each matching REST call consumes the first fault that applies to it. */
import { isRecord } from './params';

/** How a processed call is answered badly: a proxy page, an empty or cut-off body, or a JSON 500. */
export const BAD_ANSWERS = [
	'html504',
	'html502',
	'empty200',
	'truncatedJson200',
	'json500',
] as const;
export type BadAnswer = (typeof BAD_ANSWERS)[number];

export type Fault =
	| { kind: 'status'; status: number; error?: string; errorDescription?: string }
	| { kind: 'html'; status: number }
	| { kind: 'errorIn200'; error: string; errorDescription?: string }
	| { kind: 'dropBeforeProcessing' }
	| { kind: 'dropAfterProcessing' }
	| { kind: 'badAnswerAfterProcessing'; answer: BadAnswer }
	| { kind: 'delay'; ms: number }
	| { kind: 'operationTimeLimit'; resetAt: number };

export interface FaultFilter {
	/** REST method name as called over HTTP (`batch` for batch calls); case-insensitive. */
	method?: string;
	/**
	 * Hit a command inside a batch call instead of an HTTP call (only `status` and `operationTimeLimit` apply
	 * there: the command fails in `result_error`, the others run).
	 */
	insideBatch?: boolean;
}

interface QueuedFault {
	fault: Fault;
	method?: string;
	insideBatch: boolean;
}

export class FaultQueue {
	private queue: QueuedFault[] = [];

	add(faults: readonly Fault[], filter: FaultFilter = {}): void {
		const method = filter.method?.toLowerCase();
		const insideBatch = filter.insideBatch === true;
		this.queue.push(
			...faults.map((fault) =>
				method === undefined ? { fault, insideBatch } : { fault, method, insideBatch },
			),
		);
	}

	/** Remove and return the first fault queued for this method (or for any method), for a call or a batch command. */
	take(method: string, insideBatch = false): Fault | undefined {
		const index = this.queue.findIndex(
			(q) =>
				q.insideBatch === insideBatch &&
				(q.method === undefined || q.method === method.toLowerCase()),
		);
		if (index === -1) return undefined;
		return this.queue.splice(index, 1)[0]?.fault;
	}

	clear(): void {
		this.queue = [];
	}

	get pending(): number {
		return this.queue.length;
	}
}

type Obj = Record<string, unknown>;
const num = (o: Obj, key: string): number | undefined => {
	const value = o[key];
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};
const str = (o: Obj, key: string): string | undefined => {
	const value = o[key];
	return typeof value === 'string' ? value : undefined;
};
const isBadAnswer = (value: unknown): value is BadAnswer =>
	(BAD_ANSWERS as readonly unknown[]).includes(value);

/** Per kind: build the typed fault from untrusted JSON, or undefined when a required field is missing. */
const FAULT_PARSERS: Readonly<Record<Fault['kind'], (o: Obj) => Fault | undefined>> = {
	status: (o) => {
		const status = num(o, 'status');
		if (status === undefined) return undefined;
		return {
			kind: 'status',
			status,
			error: str(o, 'error'),
			errorDescription: str(o, 'errorDescription'),
		};
	},
	html: (o) => {
		const status = num(o, 'status');
		return status === undefined ? undefined : { kind: 'html', status };
	},
	errorIn200: (o) => {
		const error = str(o, 'error');
		return error === undefined
			? undefined
			: { kind: 'errorIn200', error, errorDescription: str(o, 'errorDescription') };
	},
	dropBeforeProcessing: () => ({ kind: 'dropBeforeProcessing' }),
	dropAfterProcessing: () => ({ kind: 'dropAfterProcessing' }),
	badAnswerAfterProcessing: (o) =>
		isBadAnswer(o.answer) ? { kind: 'badAnswerAfterProcessing', answer: o.answer } : undefined,
	delay: (o) => {
		const ms = num(o, 'ms');
		return ms === undefined ? undefined : { kind: 'delay', ms };
	},
	operationTimeLimit: (o) => {
		const resetAt = num(o, 'resetAt');
		return resetAt === undefined ? undefined : { kind: 'operationTimeLimit', resetAt };
	},
};

const isFaultKind = (kind: unknown): kind is Fault['kind'] =>
	typeof kind === 'string' && Object.prototype.hasOwnProperty.call(FAULT_PARSERS, kind);

/** Validate a JSON list of faults (control API); throws with a readable message on bad input. */
export function parseFaults(value: unknown): Fault[] {
	if (!Array.isArray(value)) throw new Error('faults must be an array');
	return value.map((item: unknown, i) => {
		const kind: unknown = isRecord(item) ? item.kind : undefined;
		const fault = isRecord(item) && isFaultKind(kind) ? FAULT_PARSERS[kind](item) : undefined;
		if (!fault) throw new Error(`faults[${i}] is not a valid fault`);
		return fault;
	});
}
