import type { IDataObject } from 'n8n-workflow';

import { OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, type Emulator } from '../emulator';

/** A Bitrix24 OAuth2 credential connected to the emulator's app, holding the given tokens. */
export function oauthCredential(
	emulator: Emulator,
	tokens: object,
	portalUrl: string = emulator.baseUrl,
) {
	return {
		type: 'bitrix24OAuth2Api' as const,
		data: {
			portalUrl,
			accessTokenUrl: emulator.tokenUrl,
			clientId: OAUTH_CLIENT_ID,
			clientSecret: OAUTH_CLIENT_SECRET,
			oauthTokenData: { ...tokens } as IDataObject,
		},
	};
}
