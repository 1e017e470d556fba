/**
 * The shipped example workflows (examples/crm-notifications.workflow.json, examples/open-channel-bot.workflow.json),
 * variants of the first for the e2e suite, plus the credentials that point them at an emulated portal.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { REPO_ROOT } from './lines';
import type { JsonObject } from './runner';

export const EXAMPLE_FILE = path.join(REPO_ROOT, 'examples', 'crm-notifications.workflow.json');

/** Node names in the example. */
export const NODES = {
	trigger: 'Run the example',
	items: 'CRM notifications',
	bitrix24: 'Bitrix24 Open Channels',
	sent: 'Sent',
	failed: 'Needs attention',
} as const;

export interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: JsonObject;
	credentials?: Record<string, { id: string; name: string }>;
	onError?: string;
	retryOnFail?: boolean;
	maxTries?: number;
	waitBetweenTries?: number;
	/** A Webhook node's ID in n8n's webhook table. */
	webhookId?: string;
}

export interface Workflow {
	id: string;
	name: string;
	nodes: WorkflowNode[];
	connections: JsonObject;
	settings?: JsonObject;
	[key: string]: unknown;
}

export interface CredentialRef {
	id: string;
	name: string;
}

export function loadExample(): Workflow {
	return JSON.parse(fs.readFileSync(EXAMPLE_FILE, 'utf8')) as Workflow;
}

/** The shipped bot example: the trigger hears the customer, Bot Dialog answers, hands over, finishes. */
export const BOT_EXAMPLE_FILE = path.join(REPO_ROOT, 'examples', 'open-channel-bot.workflow.json');

export function loadBotExample(): Workflow {
	return JSON.parse(fs.readFileSync(BOT_EXAMPLE_FILE, 'utf8')) as Workflow;
}

export function nodeOf(workflow: Workflow, name: string): WorkflowNode {
	const node = workflow.nodes.find((candidate) => candidate.name === name);
	if (!node) throw new Error(`The workflow "${workflow.name}" has no node "${name}"`);
	return node;
}

/** The webhook credential the example refers to (id and name the import must use). */
export function exampleWebhookCredential(): CredentialRef {
	const ref = nodeOf(loadExample(), NODES.bitrix24).credentials?.bitrix24WebhookApi;
	if (!ref) throw new Error('The example workflow has no bitrix24WebhookApi credential reference');
	return ref;
}

/** The portal's request budget as the credential stores it (Requests per Second, Burst Limit). */
export interface CredentialBudget {
	requestsPerSecond: number;
	burstLimit: number;
}

/** A webhook credential; without a budget n8n fills in the credential type's defaults (2 per second, burst 50). */
export function webhookCredential(
	ref: CredentialRef,
	webhookUrl: string,
	budget?: CredentialBudget,
): JsonObject {
	return { ...ref, type: 'bitrix24WebhookApi', data: { webhookUrl, ...budget } };
}

export interface OAuthSetup {
	portalUrl: string;
	accessTokenUrl: string;
	clientId: string;
	clientSecret: string;
	/** A token pair as the emulator's /_emulator/tokens (or Bitrix24's token endpoint) hands it out. */
	tokens: { access_token: string; refresh_token: string; expires_in?: number };
}

/** An OAuth2 credential as n8n stores it after "Connect": client, portal, token URL and the token data. */
export function oauthCredential(ref: CredentialRef, setup: OAuthSetup): JsonObject {
	return {
		...ref,
		type: 'bitrix24OAuth2Api',
		data: {
			portalUrl: setup.portalUrl,
			accessTokenUrl: setup.accessTokenUrl,
			clientId: setup.clientId,
			clientSecret: setup.clientSecret,
			oauthTokenData: {
				access_token: setup.tokens.access_token,
				refresh_token: setup.tokens.refresh_token,
				token_type: 'Bearer',
				expires_in: setup.tokens.expires_in || 3600,
			},
		},
	};
}

export interface Variant {
	id: string;
	name: string;
	/** Replaces the items node's code: a JS body returning n8n items. */
	jsCode?: string;
	/** Items to emit instead of the example's (serialised into the items node's code). */
	items?: JsonObject[];
	/** The Bitrix24 node's On Error; default: the example's (Continue using error output). */
	onError?: 'continueErrorOutput' | 'continueRegularOutput' | 'stopWorkflow';
	webhook?: CredentialRef;
	oauth?: CredentialRef;
	/** Merged into the Bitrix24 node's parameters (e.g. `options`). */
	parameters?: JsonObject;
	/** The Bitrix24 node's Settings > Retry On Fail (n8n's node fields `retryOnFail`, `maxTries`, `waitBetweenTries`). */
	retry?: { maxTries: number; waitBetweenTries: number };
	/** Merged into the workflow's settings (e.g. `executionTimeout` in seconds). */
	settings?: JsonObject;
}

/** A copy of the example with another id/name and the given items, On Error and credential. */
export function exampleVariant(variant: Variant): Workflow {
	const workflow = loadExample();
	workflow.id = variant.id;
	workflow.name = variant.name;
	const items = nodeOf(workflow, NODES.items);
	if (variant.items)
		items.parameters.jsCode = `return ${JSON.stringify(variant.items, null, 2)}.map((json) => ({ json }));`;
	if (variant.jsCode) items.parameters.jsCode = variant.jsCode;
	const bitrix24 = nodeOf(workflow, NODES.bitrix24);
	if (variant.parameters) bitrix24.parameters = { ...bitrix24.parameters, ...variant.parameters };
	if (variant.onError === 'stopWorkflow') delete bitrix24.onError;
	else if (variant.onError) bitrix24.onError = variant.onError;
	if (variant.retry) {
		bitrix24.retryOnFail = true;
		bitrix24.maxTries = variant.retry.maxTries;
		bitrix24.waitBetweenTries = variant.retry.waitBetweenTries;
	}
	if (variant.settings) workflow.settings = { ...workflow.settings, ...variant.settings };
	if (variant.oauth) {
		bitrix24.parameters.authentication = 'oAuth2';
		bitrix24.credentials = { bitrix24OAuth2Api: variant.oauth };
	} else if (variant.webhook) {
		bitrix24.credentials = { bitrix24WebhookApi: variant.webhook };
	}
	return workflow;
}

/** The Open Channels Trigger's node name in `triggerToNoOp` workflows. */
export const TRIGGER_NODE = 'Customer writes';

/**
 * A workflow "Open Channels Trigger -> No Operation" (the trigger's items are read from the execution), not
 * active: n8n 2.x activates by publishing.
 */
export function triggerToNoOp(setup: {
	name: string;
	parameters: JsonObject;
	credential: CredentialRef;
	id?: string;
}): JsonObject {
	return {
		...(setup.id === undefined ? {} : { id: setup.id }),
		name: setup.name,
		nodes: [
			{
				id: randomUUID(),
				name: TRIGGER_NODE,
				type: 'n8n-nodes-bitrix24-open-channels.bitrix24OpenChannelsTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId: randomUUID(),
				parameters: setup.parameters,
				credentials: { bitrix24WebhookApi: setup.credential },
			},
			{
				id: randomUUID(),
				name: 'Received',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [300, 0],
				parameters: {},
			},
		],
		connections: { [TRIGGER_NODE]: { main: [[{ node: 'Received', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
		active: false,
	};
}
