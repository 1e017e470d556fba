import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import {
	createRunExecutionData,
	Workflow,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type INode,
	type INodeExecutionData,
	type INodeParameters,
	type IRun,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';

import { TestCredentialsHelper } from './credentialsHelper';
import { createNodeTypes, INPUT_NODE_TYPE, NODE_TYPE } from './nodeTypes';

export type OnError = 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';

export interface NodeRun {
	/** Items of the node's outputs: [0] success (or everything, under Continue regular output), [1] error output. */
	outputs: INodeExecutionData[][];
	/**
	 * The items as the node (RoutingNode) handed them to the engine, before WorkflowExecute routed failures to
	 * the error output and normalised them: the objects themselves, properties that are not enumerable included.
	 */
	handedOver: INodeExecutionData[][];
	/** The execution's error, when the run failed (Stop Workflow). */
	error?: IRun['data']['resultData']['error'];
	credentials: TestCredentialsHelper;
	run: IRun;
}

export interface RunOptions {
	parameters: INodeParameters;
	items: IDataObject[];
	onError?: OnError;
	credential: {
		type: 'bitrix24WebhookApi' | 'bitrix24OAuth2Api';
		data: ICredentialDataDecryptedObject;
	};
	/** Reuse a credential store across runs (e.g. to see refreshed tokens). */
	credentials?: TestCredentialsHelper;
	/**
	 * Run the node on its own, its items put straight on the engine's stack with no input source (as n8n runs a
	 * node that has no parent), instead of after the Input node.
	 */
	alone?: boolean;
	/** The node's Settings, e.g. Retry On Fail (`retryOnFail`, `maxTries`, `waitBetweenTries`). */
	settings?: Partial<Pick<INode, 'retryOnFail' | 'maxTries' | 'waitBetweenTries'>>;
}

/** A run under way: it can be cancelled as the editor's Stop button or the workflow timeout does. */
export interface StartedRun {
	/** n8n's own cancellation of the execution (WorkflowExecute's PCancelable). */
	cancel: () => void;
	finished: Promise<NodeRun>;
}

/** The node's parameters mapped from each item's fields (type, entityId, sender, chat, text), as a CRM workflow would. */
export const MAPPED_PARAMETERS: INodeParameters = {
	crmEntityType: '={{ $json.type }}',
	crmEntityId: '={{ $json.entityId }}',
	userId: { __rl: true, mode: 'id', value: '={{ $json.sender }}' },
	chatId: { __rl: true, mode: 'id', value: '={{ $json.chat }}' },
	message: '={{ $json.text }}',
};

export const NODE_NAME = 'Bitrix24 Open Channels';

/** Both ways the node can send, as `describe.each` rows (name, the node's Options): results must not depend on it. */
export const SENDING_MODES: Array<[string, INodeParameters]> = [
	['one request per message', { sendInBatches: false }],
	['in batches', {}],
];

export function additionalDataFor(
	credentialsHelper: TestCredentialsHelper,
	hooks: ExecutionLifecycleHooks,
): IWorkflowExecuteAdditionalData {
	// Explicit undefineds: the engine probes these, and anything else there changes its behaviour.
	return {
		credentialsHelper,
		hooks,
		executeWorkflow: async () => {
			throw new Error('Sub-workflows are not part of these tests');
		},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://127.0.0.1:5678/rest',
		instanceBaseUrl: 'http://127.0.0.1:5678/',
		formBaseUrl: 'http://127.0.0.1:5678/form',
		formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
		formTestBaseUrl: 'http://127.0.0.1:5678/form-test',
		webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
		webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
		mcpBaseUrl: 'http://127.0.0.1:5678/mcp',
		mcpTestBaseUrl: 'http://127.0.0.1:5678/mcp-test',
		currentNodeParameters: undefined,
		executionTimeoutTimestamp: undefined,
		variables: {},
		logAiEvent: () => undefined,
		startRunnerTask: async () => {
			throw new Error('Task runners are not part of these tests');
		},
		encryptedRunnerIdentity: undefined,
		executionContext: undefined,
		ssrfBridge: undefined,
		otel: undefined,
	} as unknown as IWorkflowExecuteAdditionalData;
}

/** n8n's engine, noting what the Bitrix24 node returns before the engine works on it. */
class NotingWorkflowExecute extends WorkflowExecute {
	handedOver: INodeExecutionData[][] = [];

	override async runNode(
		...args: Parameters<WorkflowExecute['runNode']>
	): ReturnType<WorkflowExecute['runNode']> {
		const response = await super.runNode(...args);
		const data = 'data' in response ? response.data : undefined;
		// The engine empties these arrays as it routes items, so keep copies of them (not of the items).
		if (args[1].node.name === NODE_NAME && data) this.handedOver = data.map((items) => [...items]);
		return response;
	}
}

/**
 * Runs `Input -> Bitrix24 Open Channels` through n8n's real engine (WorkflowExecute, which runs the
 * declarative node with RoutingNode), the way a manual execution in the editor does.
 */
export async function runNode(options: RunOptions): Promise<NodeRun> {
	return await startNode(options).finished;
}

/**
 * The common story: items mapped into the node's fields (MAPPED_PARAMETERS) with the given Options, sent with a
 * webhook credential, failures on the error output.
 */
export async function sendMapped(
	webhookUrl: string,
	items: IDataObject[],
	options: INodeParameters = {},
	extra: Partial<RunOptions> = {},
): Promise<NodeRun> {
	return await runNode({
		credential: { type: 'bitrix24WebhookApi', data: { webhookUrl } },
		items,
		parameters: { ...MAPPED_PARAMETERS, options },
		onError: 'continueErrorOutput',
		...extra,
	});
}

/** Starts the run of runNode and hands back n8n's cancel along with the result to come. */
export function startNode(options: RunOptions): StartedRun {
	const credentials = options.credentials ?? new TestCredentialsHelper();
	if (!credentials.stored.has(credentials.credentialId)) {
		credentials.stored.set(credentials.credentialId, structuredClone(options.credential.data));
	}
	const authentication = options.credential.type === 'bitrix24OAuth2Api' ? 'oAuth2' : 'webhook';
	const input: INode = {
		id: 'input',
		name: 'Input',
		type: INPUT_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: { items: JSON.stringify(options.items) },
	};
	const node: INode = {
		id: 'bitrix24',
		name: NODE_NAME,
		type: NODE_TYPE,
		typeVersion: 1,
		position: [200, 0],
		parameters: {
			authentication,
			resource: 'crmChat',
			operation: 'sendMessage',
			...options.parameters,
		},
		credentials: {
			[options.credential.type]: { id: credentials.credentialId, name: 'Bitrix24 test credential' },
		},
		onError: options.onError ?? 'stopWorkflow',
		...options.settings,
	};
	const workflowData: IWorkflowBase = {
		id: 'wf-test',
		name: 'Bitrix24 test',
		active: false,
		isArchived: false,
		createdAt: new Date(),
		updatedAt: new Date(),
		nodes: options.alone ? [node] : [input, node],
		connections: options.alone
			? {}
			: { Input: { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
		activeVersionId: null,
	};
	const workflow = new Workflow({
		id: workflowData.id,
		name: workflowData.name,
		nodes: workflowData.nodes,
		connections: workflowData.connections,
		active: false,
		nodeTypes: createNodeTypes(),
		settings: workflowData.settings,
	});

	const hooks = new ExecutionLifecycleHooks('manual', 'exec-1', workflowData);
	const finished = new Promise<IRun>((resolve) => {
		hooks.addHandler('workflowExecuteAfter', (fullRunData) => resolve(fullRunData));
	});
	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [
				options.alone
					? { node, data: { main: [options.items.map((json) => ({ json }))] }, source: null }
					: { node: input, data: { main: [[{ json: {} }]] }, source: null },
			],
		},
	});
	const workflowExecute = new NotingWorkflowExecute(
		additionalDataFor(credentials, hooks),
		'manual',
		runExecutionData,
	);
	const execution = workflowExecute.processRunExecutionData(workflow);
	const collect = async (): Promise<NodeRun> => {
		await execution;
		const run = await finished;
		const taskData = run.data.resultData.runData[NODE_NAME]?.[0];
		return {
			outputs: (taskData?.data?.main ?? []).map((items) => items ?? []),
			handedOver: workflowExecute.handedOver,
			error: run.data.resultData.error,
			credentials,
			run,
		};
	};
	return { cancel: () => execution.cancel(), finished: collect() };
}
