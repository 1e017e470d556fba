/**
 * Runs the trigger node through n8n-core's own contexts, the way n8n's server does:
 * - activation and deactivation: the node's webhookMethods in a HookContext (checkExists, then create if it says
 *   no; delete), as WebhookService.createWebhookIfNotExists / deleteWebhook do;
 * - each request to the production URL: a real HTTP server standing for n8n's webhook endpoint parses the body as
 *   n8n's body parser does (JSON, or a form with Node's querystring: flat `data[bot][id]` keys, and the raw body),
 *   runs the node's webhook() in a WebhookContext on the workflow as loaded for that request, saves what it changed
 *   of the static data as n8n 2.41.1 does (saveRequestStaticData), and answers as WebhookHelpers.executeWebhook does
 *   in responseMode onReceived;
 * - polls: TriggersAndPollers.runPollFunction with a PollContext (mode `trigger`, or `manual` for a test fetch).
 * Static data lives on the Workflow as in n8n; `restart()` carries it to a new Workflow, as n8n's database does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import {
	ExecutionLifecycleHooks,
	HookContext,
	LoadOptionsContext,
	PollContext,
	TriggerContext,
	TriggersAndPollers,
	WebhookContext,
} from 'n8n-core';
import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type INode,
	type INodeExecutionData,
	type INodeListSearchResult,
	type INodeParameters,
	type IRun,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IWebhookData,
	type IWebhookResponseData,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type WorkflowActivateMode,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { Bitrix24OpenChannelsTrigger } from './nodeClasses';
import { TestCredentialsHelper } from './credentialsHelper';
import { createNodeTypes, TRIGGER_NODE_TYPE } from './nodeTypes';
import { additionalDataFor } from './runWorkflow';

export const TRIGGER_NAME = 'Bitrix24 Open Channels Trigger';
const WEBHOOK_ID = '0c4e2f0a-6b1d-4c7e-9d55-2a8f3b1e7c90';

export interface TriggerOptions {
	parameters: INodeParameters;
	credential: {
		type: 'bitrix24WebhookApi' | 'bitrix24OAuth2Api';
		data: ICredentialDataDecryptedObject;
	};
	/** The same credential store across restarts (one request budget per credential, as in one n8n process). */
	credentials?: TestCredentialsHelper;
	/** What n8n's database kept of the workflow's static data. */
	staticData?: IDataObject;
	/** The webhook endpoint's port (a restarted n8n keeps its URL); default a free one. */
	port?: number;
	/** The node's version: 1 (saved workflows, Instant by default) or 2 (new workflows, Reliable by default). */
	typeVersion?: number;
	/**
	 * Reliable mode's executions: what each does (e.g. a Bot Dialog reply through the emulator) before n8n reports
	 * it done; default nothing.
	 */
	runExecution?: (items: INodeExecutionData[]) => Promise<void>;
	/** n8n 1.x: emit takes no deduplication key (n8n 2.x stores it with the execution, a unique index). */
	withoutDeduplication?: boolean;
}

/** An execution reliable mode's loop started (emit), as n8n's database holds it. */
export interface LoopExecution {
	items: INodeExecutionData[];
	deduplicationKey?: string;
	/** The static data n8n saved as it started this execution. */
	savedStaticData: IDataObject;
}

/** What n8n's webhook endpoint answered one request with. */
export interface WebhookAnswer {
	status: number;
	body: string;
}

/** A request the webhook endpoint got, and what came of it. */
export interface WebhookCall {
	answer: WebhookAnswer;
	/** The items an execution started with; undefined when none started. */
	items?: INodeExecutionData[];
}

/** Express's res as far as nodes use it: status().json() / send() / end(). */
function expressResponse(res: ServerResponse) {
	const api = {
		status(code: number) {
			res.statusCode = code;
			return api;
		},
		json(body: unknown) {
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify(body));
			return api;
		},
		send(body: unknown) {
			res.end(typeof body === 'string' ? body : JSON.stringify(body));
			return api;
		},
		end(body?: string) {
			res.end(body);
			return api;
		},
		get headersSent() {
			return res.headersSent;
		},
	};
	return api;
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
	new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});

/** n8n's body-parser: JSON for application/json, querystring.parse for forms (keys stay flat). */
function parseBody(raw: Buffer, contentType: string): unknown {
	const type = contentType.split(';')[0]?.trim().toLowerCase();
	if (raw.length === 0) return {};
	if (type === 'application/json') return JSON.parse(raw.toString('utf8'));
	if (type === 'application/x-www-form-urlencoded')
		return { ...parseQueryString(raw.toString('utf8')) };
	return {};
}

export class TriggerHarness {
	/** Every request to the production URL, in arrival order. */
	readonly calls: WebhookCall[] = [];
	readonly credentials: TestCredentialsHelper;
	readonly node: INode;
	readonly workflow: Workflow;
	private readonly nodeType = new Bitrix24OpenChannelsTrigger();
	private readonly triggersAndPollers = new TriggersAndPollers();
	private readonly server: Server;
	private baseUrl = '';
	/** The executions reliable mode started, in the order n8n created them. */
	readonly loopExecutions: LoopExecution[] = [];
	/** Executions a repeated deduplication key did not create (n8n 2.x's DuplicateExecutionError). */
	readonly refusedDuplicates: string[] = [];
	/** What the trigger reported as failed executions (saveFailedExecution). */
	readonly failedExecutions: Error[] = [];
	private loop?: { workflow: Workflow; response: ITriggerResponse };
	private readonly running = new Set<Promise<void>>();

	private constructor(private readonly options: TriggerOptions) {
		this.credentials = options.credentials ?? new TestCredentialsHelper();
		if (!this.credentials.stored.has(this.credentials.credentialId))
			this.credentials.stored.set(
				this.credentials.credentialId,
				structuredClone(options.credential.data),
			);
		this.node = {
			id: 'trigger',
			name: TRIGGER_NAME,
			type: TRIGGER_NODE_TYPE,
			typeVersion: options.typeVersion ?? 1,
			position: [0, 0],
			webhookId: WEBHOOK_ID,
			parameters: {
				authentication: options.credential.type === 'bitrix24OAuth2Api' ? 'oAuth2' : 'webhook',
				...options.parameters,
			},
			credentials: {
				[options.credential.type]: {
					id: this.credentials.credentialId,
					name: 'Bitrix24 test credential',
				},
			},
		};
		this.workflow = this.workflowWith(structuredClone(options.staticData ?? {}));
		this.server = createServer((req, res) => {
			this.receive(req, res).catch((error: unknown) => {
				res.statusCode = 500;
				res.end(error instanceof Error ? error.message : String(error));
			});
		});
	}

	private workflowWith(staticData: IDataObject): Workflow {
		return new Workflow({
			id: 'wf-trigger',
			name: 'Bitrix24 trigger test',
			nodes: [this.node],
			connections: {},
			active: true,
			nodeTypes: createNodeTypes(),
			staticData,
			settings: { executionOrder: 'v1' },
		});
	}

	/**
	 * What n8n 2.41.1 saves of the static data a request's webhook() changed. LiveWebhooks loads the workflow from the
	 * database for each request and saves its static data after webhook() if it changed; but when the request starts
	 * an execution, WorkflowRunner.establishContextForPersistence first builds a second Workflow on the same static
	 * data object, which clears its change flag (ObservableObject.create): those changes are never saved.
	 */
	private saveRequestStaticData(workflow: Workflow, startedExecution: boolean): void {
		if (startedExecution || workflow.staticData.__dataChanged !== true) return;
		const saved = JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject;
		for (const key of Object.keys(this.workflow.staticData)) delete this.workflow.staticData[key];
		Object.assign(this.workflow.staticData, saved);
	}

	/** A workflow with the trigger, its webhook endpoint listening on 127.0.0.1 (not yet activated). */
	static async start(options: TriggerOptions): Promise<TriggerHarness> {
		const harness = new TriggerHarness(options);
		await new Promise<void>((resolve) =>
			harness.server.listen(options.port ?? 0, '127.0.0.1', resolve),
		);
		const address = harness.server.address();
		if (address === null || typeof address === 'string') throw new Error('Not on TCP');
		harness.baseUrl = `http://127.0.0.1:${address.port}`;
		return harness;
	}

	/** The production URL n8n gives the node (without the node's own secret). */
	get productionUrl(): string {
		return `${this.baseUrl}/webhook/${WEBHOOK_ID}/bitrix24-open-channels`;
	}

	/** The executions the webhook started, one list of items each. */
	get executions(): INodeExecutionData[][] {
		return this.calls.flatMap((call) => (call.items ? [call.items] : []));
	}

	/** The workflow's static data as n8n saves it (JSON in its database; the live object is an observable proxy). */
	get staticData(): IDataObject {
		return JSON.parse(JSON.stringify(this.workflow.staticData)) as IDataObject;
	}

	/** Activation (`activate`, or `init` when n8n starts): checkExists, then create if needed. */
	async activate(activation: WorkflowActivateMode = 'activate'): Promise<void> {
		const exists = await this.hook('checkExists', 'trigger', activation);
		if (!exists) await this.hook('create', 'trigger', activation);
	}

	/** Deactivation, as the workflow's deregistration runs it (and the trigger's close, as ActiveWorkflows.remove). */
	async deactivate(): Promise<boolean> {
		await this.stopLoop();
		return await this.hook('delete', 'internal', 'update');
	}

	/**
	 * The node's trigger() as ActiveWorkflows.add runs it on activation (`init` when n8n starts), on a workflow object
	 * of its own loaded from the database. Its emit does what n8n 2.41.1's does (TriggerExecutionContextFactory): save
	 * the static data if it changed, create the execution unless its deduplication key exists already, and settle
	 * the done promise once the execution ran. n8n saves the static data once more after activation.
	 */
	async startLoop(activation: WorkflowActivateMode = 'activate'): Promise<void> {
		const workflow = this.workflowWith(this.staticData);
		const emit = (
			data: INodeExecutionData[][],
			_response?: unknown,
			done?: Parameters<ITriggerFunctions['emit']>[2],
			deduplicationKey?: string,
		) => {
			this.saveLoopStaticData(workflow);
			const key = this.options.withoutDeduplication === true ? undefined : deduplicationKey;
			if (key !== undefined && this.loopExecutions.some((e) => e.deduplicationKey === key)) {
				this.refusedDuplicates.push(key);
				done?.resolve(undefined as unknown as IRun);
				return;
			}
			const items = data[0] ?? [];
			this.loopExecutions.push({ items, deduplicationKey: key, savedStaticData: this.staticData });
			const run = (this.options.runExecution?.(items) ?? Promise.resolve()).then(
				() => done?.resolve({} as IRun),
				(error: unknown) => done?.resolve({ data: { resultData: { error } } } as unknown as IRun),
			);
			this.running.add(run);
			void run.finally(() => this.running.delete(run));
		};
		const context = new TriggerContext(
			workflow,
			this.node,
			this.additionalData(),
			'trigger',
			activation,
			emit,
			(error: Error) => this.failedExecutions.push(error),
			(error: Error) => this.failedExecutions.push(error),
		);
		const response = await this.triggersAndPollers.runTriggerFunction(
			workflow,
			this.node,
			() => context,
			this.additionalData(),
			'trigger',
			activation,
		);
		this.loop = { workflow, response: response ?? {} };
		this.saveLoopStaticData(workflow);
	}

	/** ActiveWorkflows.remove: the trigger's closeFunction; then the executions still running end. */
	async stopLoop(): Promise<void> {
		const loop = this.loop;
		this.loop = undefined;
		await loop?.response.closeFunction?.();
		await Promise.all([...this.running]);
	}

	/** WorkflowStaticDataService.saveStaticData: the database gets the static data when it changed. */
	private saveLoopStaticData(workflow: Workflow): void {
		if (workflow.staticData.__dataChanged !== true) return;
		const saved = JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject;
		for (const key of Object.keys(this.workflow.staticData)) delete this.workflow.staticData[key];
		Object.assign(this.workflow.staticData, saved);
		workflow.staticData.__dataChanged = false;
	}

	/** n8n restarts: a new workflow object from the saved static data, the same URL and credential store. */
	async restart(): Promise<TriggerHarness> {
		await this.close();
		return await TriggerHarness.start({
			...this.options,
			credentials: this.credentials,
			staticData: this.staticData,
			port: Number(new URL(this.baseUrl).port),
		});
	}

	/** One poll as the poll job runs it (`manual`: the editor's Fetch Test Event). */
	async poll(mode: WorkflowExecuteMode = 'trigger'): Promise<INodeExecutionData[][] | null> {
		const context = new PollContext(
			this.workflow,
			this.node,
			this.additionalData(),
			mode,
			'activate',
		);
		return await this.triggersAndPollers.runPollFunction(this.workflow, this.node, context);
	}

	/** The Open Channel pick-list, as the editor opens it. */
	async searchOpenChannels(filter?: string): Promise<INodeListSearchResult> {
		const additionalData = {
			...this.additionalData(),
			currentNodeParameters: this.node.parameters,
		};
		const context = new LoadOptionsContext(
			this.workflow,
			this.node,
			additionalData,
			'parameters.attachTo',
		);
		return await this.nodeType.methods.listSearch.getOpenChannels.call(context, filter);
	}

	async close(): Promise<void> {
		await this.stopLoop();
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}

	private webhookData(additionalData: IWorkflowExecuteAdditionalData): IWebhookData {
		const description = this.nodeType.description.webhooks?.[0];
		if (!description) throw new Error('The trigger has no webhook');
		return {
			httpMethod: 'POST',
			node: this.node.name,
			path: `${WEBHOOK_ID}/bitrix24-open-channels`,
			webhookDescription: description,
			workflowId: this.workflow.id,
			workflowExecuteAdditionalData: additionalData,
			webhookId: WEBHOOK_ID,
		};
	}

	private additionalData(extra: Partial<IWorkflowExecuteAdditionalData> = {}) {
		const hooks = new ExecutionLifecycleHooks(
			'trigger',
			'trigger-run',
			this.workflow as unknown as IWorkflowBase,
		);
		return {
			...additionalDataFor(this.credentials, hooks),
			webhookBaseUrl: `${this.baseUrl}/webhook`,
			webhookTestBaseUrl: `${this.baseUrl}/webhook-test`,
			...extra,
		} as IWorkflowExecuteAdditionalData;
	}

	private async hook(
		method: 'checkExists' | 'create' | 'delete',
		mode: WorkflowExecuteMode,
		activation: WorkflowActivateMode,
	): Promise<boolean> {
		const additionalData = this.additionalData();
		const context = new HookContext(
			this.workflow,
			this.node,
			additionalData,
			mode,
			activation,
			this.webhookData(additionalData),
		);
		return await this.nodeType.webhookMethods.default[method].call(context);
	}

	/** n8n's production webhook endpoint for this node: anything else is 404. */
	private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', this.baseUrl);
		const raw = await readBody(req);
		if (req.method !== 'POST' || url.pathname !== new URL(this.productionUrl).pathname) {
			res.statusCode = 404;
			res.end('{"code":404,"message":"The requested webhook is not registered."}');
			return;
		}
		const request = {
			method: req.method,
			url: req.url,
			headers: req.headers,
			query: { ...parseQueryString(url.search.slice(1)) },
			params: {},
			rawBody: raw,
			body: parseBody(raw, String(req.headers['content-type'] ?? '')),
		};
		const additionalData = this.additionalData({
			httpRequest: request as unknown as IWorkflowExecuteAdditionalData['httpRequest'],
			httpResponse: expressResponse(
				res,
			) as unknown as IWorkflowExecuteAdditionalData['httpResponse'],
		});
		const workflow = this.workflowWith(this.staticData);
		const context = new WebhookContext(
			workflow,
			this.node,
			additionalData,
			'webhook',
			this.webhookData(additionalData),
			[],
			null,
		);
		const result: IWebhookResponseData = await this.nodeType.webhook.call(context);
		this.saveRequestStaticData(workflow, result.workflowData !== undefined);
		const call: WebhookCall = { answer: { status: 0, body: '' } };
		this.calls.push(call);
		// WebhookHelpers.executeWebhook, responseMode onReceived.
		if (result.noWebhookResponse !== true) {
			const body =
				result.workflowData === undefined
					? (result.webhookResponse ?? { message: 'Webhook call received' })
					: { message: 'Workflow was started' };
			res.statusCode = 200;
			res.setHeader('content-type', 'application/json');
			res.end(typeof body === 'string' ? body : JSON.stringify(body));
		}
		if (result.workflowData !== undefined) call.items = result.workflowData[0] ?? [];
		call.answer = { status: res.statusCode, body: '' };
	}
}
