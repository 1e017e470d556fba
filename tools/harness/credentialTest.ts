import { ExecuteContext, ExecutionLifecycleHooks, RoutingNode } from 'n8n-core';
import {
	createRunExecutionData,
	NodeConnectionTypes,
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentialTestRequest,
	type INode,
	type INodeType,
	type IWorkflowBase,
} from 'n8n-workflow';

import { TestCredentialsHelper } from './credentialsHelper';
import { additionalDataFor } from './runWorkflow';

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

interface RuleProperties {
	value: unknown;
	message: string;
	key?: string;
}

/**
 * The editor's "Test" button for a credential with a `test` request, as n8n 2.41's CredentialsTester
 * runs it: a temporary declarative node whose only routing is the test request, run by RoutingNode
 * with the credential, then the credential's rules on the error status or the answer's body.
 */
export async function testCredential(
	type: string,
	test: ICredentialTestRequest,
	data: ICredentialDataDecryptedObject,
): Promise<CredentialTestResult> {
	const credentials = new TestCredentialsHelper();
	const nodeType: INodeType = {
		description: {
			displayName: 'Temp',
			name: 'temp',
			group: ['transform'],
			version: 1,
			description: 'Credential test',
			defaults: { name: 'Temp' },
			inputs: [NodeConnectionTypes.Main],
			outputs: [NodeConnectionTypes.Main],
			credentials: [{ name: type, required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					default: '',
					routing: { request: test.request },
				},
			],
		},
	};
	const node: INode = {
		id: 'temp',
		name: 'Temp-Node',
		type: 'temp',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		credentials: { [type]: { id: credentials.credentialId, name: 'Credential under test' } },
	};
	const workflowData = {
		id: 'credential-test',
		name: 'Credential test',
		nodes: [node],
		connections: {},
	};
	const workflow = new Workflow({
		...workflowData,
		active: false,
		nodeTypes: {
			getByName: () => nodeType,
			getByNameAndVersion: () => NodeHelpers.getVersionedNodeType(nodeType, 1),
			getKnownTypes: () => ({}),
		},
	});
	const hooks = new ExecutionLifecycleHooks(
		'internal',
		'credential-test',
		workflowData as unknown as IWorkflowBase,
	);
	const context = new ExecuteContext(
		workflow,
		node,
		additionalDataFor(credentials, hooks),
		'internal',
		createRunExecutionData(),
		0,
		[],
		{ main: [[{ json: {} }]] },
		{ node, data: {}, source: null },
		[],
	);
	const rules = (test.rules ?? []) as Array<{ type: string; properties: RuleProperties }>;
	let response;
	try {
		response = await new RoutingNode(context, nodeType, {
			id: credentials.credentialId,
			name: 'test',
			type,
			data,
		}).runNode();
	} catch (error) {
		const status = (error as { cause?: { response?: { status: number; statusText?: string } } })
			.cause?.response;
		if (status) {
			const rule = rules.find(
				(r) => r.type === 'responseCode' && r.properties.value === status.status,
			);
			return {
				status: 'Error',
				message:
					rule?.properties.message ??
					(status.statusText || `Received HTTP status code: ${status.status}`),
			};
		}
		const code = (error as { cause?: { code?: string } }).cause?.code;
		return { status: 'Error', message: code ?? (error as Error).message };
	}
	const body = response?.[0]?.[0]?.json ?? {};
	for (const rule of rules) {
		if (rule.type !== 'responseSuccessBody' || !rule.properties.key) continue;
		const value = rule.properties.key
			.split('.')
			.reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], body);
		if (value === rule.properties.value)
			return { status: 'Error', message: rule.properties.message };
	}
	return { status: 'OK', message: 'Connection successful!' };
}
