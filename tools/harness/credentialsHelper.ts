import {
	ICredentialsHelper,
	type ICredentialDataDecryptedObject,
	type ICredentials,
	type ICredentialType,
	type IHttpRequestOptions,
	type INodeCredentialsDetails,
	type INodeProperties,
} from 'n8n-workflow';

import { Bitrix24OAuth2Api } from '../../credentials/Bitrix24OAuth2Api.credentials';
import { Bitrix24WebhookApi } from '../../credentials/Bitrix24WebhookApi.credentials';

let storeCount = 0;

const CREDENTIAL_TYPES: Record<string, ICredentialType> = {
	bitrix24WebhookApi: new Bitrix24WebhookApi(),
	bitrix24OAuth2Api: new Bitrix24OAuth2Api(),
};

/**
 * n8n's credential store, as far as the engine uses it: stored data with the type's defaults,
 * the type's `authenticate`, OAuth parents, and token updates written back (so tests can see them).
 */
export class TestCredentialsHelper extends ICredentialsHelper {
	/** Stored credential data by credential ID. */
	readonly stored = new Map<string, ICredentialDataDecryptedObject>();

	/** How many times n8n wrote refreshed OAuth tokens back. */
	oauthUpdates = 0;

	/**
	 * The ID of the credential the test workflow uses; unique per store, because the node keeps one
	 * request budget per credential for the life of the process, as in n8n.
	 */
	readonly credentialId = `cred-${++storeCount}`;

	getParentTypes(name: string): string[] {
		return CREDENTIAL_TYPES[name]?.extends ?? [];
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const { authenticate } = CREDENTIAL_TYPES[typeName] ?? {};
		// Like n8n's CLI: a function authenticates by itself; our types use no generic form.
		if (typeof authenticate === 'function') return await authenticate(credentials, requestOptions);
		return requestOptions;
	}

	async preAuthentication(): Promise<undefined> {
		return undefined;
	}

	async runPreAuthentication(): Promise<undefined> {
		return undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new Error('The engine asked for encrypted credentials, which these tests do not model');
	}

	async getDecrypted(
		_additionalData: unknown,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const data = this.stored.get(nodeCredentials.id ?? '');
		if (!data) throw new Error(`No credential ${nodeCredentials.id} of type ${type} stored`);
		return { ...this.defaults(type), ...structuredClone(data) };
	}

	async updateCredentials(
		nodeCredentials: INodeCredentialsDetails,
		_type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.stored.set(nodeCredentials.id ?? '', structuredClone(data));
	}

	async updateCredentialsOauthTokenData(
		nodeCredentials: INodeCredentialsDetails,
		_type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.oauthUpdates++;
		const id = nodeCredentials.id ?? '';
		this.stored.set(id, {
			...this.stored.get(id),
			oauthTokenData: structuredClone(data.oauthTokenData),
		});
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		return CREDENTIAL_TYPES[type]?.properties ?? [];
	}

	/** The type's plain defaults, as n8n applies them to stored data (expressions are not needed here). */
	private defaults(type: string): ICredentialDataDecryptedObject {
		const defaults: ICredentialDataDecryptedObject = {};
		for (const property of this.getCredentialsProperties(type)) {
			const value = property.default;
			if (typeof value === 'string' && value.startsWith('=')) continue;
			defaults[property.name] = value as ICredentialDataDecryptedObject[string];
		}
		return defaults;
	}
}
