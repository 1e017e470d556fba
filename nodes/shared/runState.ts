import type { IExecuteData, IExecuteSingleFunctions } from 'n8n-workflow';

/**
 * Runs tasks that share a key one after another, in the order they were queued (messages to one chat
 * leave in input order); tasks without a shared key run side by side.
 */
export class OrderedLanes {
	private readonly tails = new Map<string, Promise<void>>();

	/** Queues `task` behind every earlier task of any of `keys`. Call it in input order, before any await. */
	async inOrder<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
		const before = keys.map((key) => this.tails.get(key));
		let finish = () => {};
		const done = new Promise<void>((resolve) => (finish = resolve));
		for (const key of keys) this.tails.set(key, done);
		try {
			await Promise.all(before);
			return await task();
		} finally {
			finish();
			for (const key of keys) if (this.tails.get(key) === done) this.tails.delete(key);
		}
	}
}

/**
 * What the items of one node run share. n8n hands every item (and every retry of the node by
 * Settings > Retry On Fail) the same execute data object, so that object keys the run.
 */
export class RunState<Outcome> {
	/** Aborted when n8n stops the execution (Cancel, the workflow timeout) or it finishes. */
	readonly stop = new AbortController();

	/** Settles when the run is stopped: one listener for every wait that must end early. */
	readonly stopped = new Promise<void>((resolve) =>
		this.stop.signal.addEventListener('abort', () => resolve(), { once: true }),
	);

	/** Keeps messages to the same chat in input order. */
	readonly lanes = new OrderedLanes();

	/** Each item's outcome by item index, so that a retry of the node does not post a message twice. */
	readonly outcomes = new Map<number, Outcome>();
}

const runs = new WeakMap<IExecuteData, RunState<unknown>>();

/**
 * The state of the node run this item belongs to. The run stops on the execution's cancel signal, which a
 * real n8n hands declarative nodes (its NodeTypes wraps them in an `execute` that runs RoutingNode with the
 * execution's context), and on `onExecutionFinish` (2.x), which n8n also runs on Cancel and timeout: an engine
 * run straight through WorkflowExecute gives RoutingNode no signal (`executeDeclarativeNodeInTest`).
 */
export function runStateOf<Outcome>(context: IExecuteSingleFunctions): RunState<Outcome> {
	const key = context.getExecuteData();
	let state = runs.get(key) as RunState<Outcome> | undefined;
	if (!state) {
		const created = new RunState<Outcome>();
		const stop = () => created.stop.abort();
		context.onExecutionFinish?.(stop);
		const cancelSignal = context.getExecutionCancelSignal();
		if (cancelSignal?.aborted) stop();
		else cancelSignal?.addEventListener('abort', stop);
		runs.set(key, created);
		state = created;
	}
	return state;
}
