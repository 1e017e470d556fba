import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type INode,
	type INodeParameters,
	type INodeProperties,
	type INodeType,
	type INodeTypes,
} from 'n8n-workflow';

import { Bitrix24OAuth2Api } from '../../credentials/Bitrix24OAuth2Api.credentials';
import { budgetFields } from '../../nodes/shared/budgetFields';

const credential = new Bitrix24OAuth2Api();

function property(name: string): INodeProperties {
	const found = credential.properties.find((p) => p.name === name);
	if (!found) throw new Error(`The credential has no property ${name}`);
	return found;
}

/**
 * Resolves the credential's data the way n8n applies credential defaults: every value goes through
 * the expression engine with the credential's own data as `$self`.
 */
function resolveLikeN8n(data: ICredentialDataDecryptedObject): ICredentialDataDecryptedObject {
	const noOp: INodeType = {
		description: {
			displayName: 'Temp',
			name: 'temp',
			group: ['transform'],
			version: 1,
			description: 'Stands in for the node the credential is resolved for',
			defaults: { name: 'Temp' },
			inputs: [],
			outputs: [],
			properties: [],
		},
	};
	const nodeTypes: INodeTypes = {
		getByName: () => noOp,
		getByNameAndVersion: () => noOp,
		getKnownTypes: () => ({}),
	};
	const node: INode = {
		id: 'temp',
		name: 'Temp',
		type: 'test.temp',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	return workflow.expression.getParameterValue(
		data as INodeParameters,
		null,
		0,
		0,
		node.name,
		[],
		'manual',
		{},
		undefined,
		false,
		data,
	) as ICredentialDataDecryptedObject;
}

/** The stored data n8n would have: the defaults of every property, then what the user typed. */
function withDefaults(typed: ICredentialDataDecryptedObject): ICredentialDataDecryptedObject {
	const data: ICredentialDataDecryptedObject = {};
	for (const p of credential.properties)
		data[p.name] = p.default as ICredentialDataDecryptedObject[string];
	return { ...data, ...typed };
}

describe('Bitrix24OAuth2Api credential', () => {
	it("is named and extends n8n's OAuth2 credential", () => {
		expect(credential.name).toBe('bitrix24OAuth2Api');
		expect(credential.extends).toEqual(['oAuth2Api']);
		expect(credential.displayName).toBe('Bitrix24 OAuth2 API');
		expect(credential.documentationUrl).toMatch(/^https:\/\//);
	});

	it('asks for the portal URL', () => {
		const portalUrl = property('portalUrl');
		expect(portalUrl.type).toBe('string');
		expect(portalUrl.required).toBe(true);
		expect(portalUrl.default).toBe('');
		expect(portalUrl.placeholder).toBe('https://yourcompany.bitrix24.com');
	});

	it('shows the access token URL, defaulting to the Bitrix24 OAuth server', () => {
		const accessTokenUrl = property('accessTokenUrl');
		expect(accessTokenUrl.type).toBe('string');
		expect(accessTokenUrl.type).not.toBe('hidden');
		expect(accessTokenUrl.default).toBe('https://oauth.bitrix.info/oauth/token/');
	});

	it('sends the client id and secret in the body', () => {
		const authentication = property('authentication');
		expect(authentication.type).toBe('hidden');
		expect(authentication.default).toBe('body');
	});

	it('uses the authorization code grant and no scope of its own', () => {
		expect(property('grantType')).toMatchObject({ type: 'hidden', default: 'authorizationCode' });
		expect(property('scope')).toMatchObject({ type: 'hidden', default: '' });
		expect(property('authQueryParameters')).toMatchObject({ type: 'hidden', default: '' });
	});

	it('derives the hidden authorization URL from the portal URL', () => {
		const authUrl = property('authUrl');
		expect(authUrl.type).toBe('hidden');
		expect(typeof authUrl.default).toBe('string');
		const expression = authUrl.default as string;
		expect(expression.startsWith('=')).toBe(true);
		expect(expression).toContain('portalUrl');
		expect(expression.endsWith('/oauth/authorize/')).toBe(true);
	});

	it.each([
		['https://yourcompany.bitrix24.com', 'https://yourcompany.bitrix24.com/oauth/authorize/'],
		['https://yourcompany.bitrix24.com/', 'https://yourcompany.bitrix24.com/oauth/authorize/'],
		['https://yourcompany.bitrix24.com///', 'https://yourcompany.bitrix24.com/oauth/authorize/'],
		['http://127.0.0.1:8080', 'http://127.0.0.1:8080/oauth/authorize/'],
	])(
		"resolves the authorization URL for the portal %j like n8n's expression engine",
		(portalUrl, expected) => {
			const resolved = resolveLikeN8n(withDefaults({ portalUrl }));
			expect(resolved.authUrl).toBe(expected);
			expect(resolved.portalUrl).toBe(portalUrl);
			expect(resolved.accessTokenUrl).toBe('https://oauth.bitrix.info/oauth/token/');
		},
	);

	it("carries the portal's request budget (see budgetFields.test.ts)", () => {
		expect(credential.properties).toEqual(expect.arrayContaining(budgetFields));
	});

	it('has no property twice', () => {
		const names = credential.properties.map((p) => p.name);
		expect(new Set(names).size).toBe(names.length);
	});

	it('lists the visible fields a user fills in', () => {
		const visible = credential.properties.filter((p) => p.type !== 'hidden').map((p) => p.name);
		expect(visible).toEqual(['portalUrl', 'accessTokenUrl', 'requestsPerSecond', 'burstLimit']);
	});
});
