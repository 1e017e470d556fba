import type { ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';

import { budgetSettings } from '../shared/pacing';
import { credentialTypeOf, toBitrix24Failure } from '../shared/transport';
import {
	attachToLines,
	ensureBot,
	findBot,
	refuseTakeOver,
	restoreLines,
	triggerError,
} from './bot';
import { botNameOf, filtersOf, identityOf, lineIdsOf } from './context';
import { EventLoop } from './eventLoop';
import { stateOf } from './state';

/** The portal's host, from either credential's URL. */
function portalHostOf(credentials: Record<string, unknown>): string {
	try {
		return new URL(
			String(credentials.webhookUrl ?? credentials.portalUrl ?? ''),
		).host.toLowerCase();
	} catch {
		return 'portal';
	}
}

/**
 * Reliable mode's activation (also when n8n starts, or this main becomes the leader): the bot in fetch mode and
 * attached to the open channels, then the event loop, which runs until deactivation. A failure here fails the
 * activation, with Bitrix24's reason; failures later are the loop's to retry.
 */
export async function startReliable(context: ITriggerFunctions): Promise<ITriggerResponse> {
	const state = stateOf(context);
	try {
		let credentials: Record<string, unknown>;
		try {
			credentials = await context.getCredentials(credentialTypeOf(context));
		} catch (error) {
			throw toBitrix24Failure(error);
		}
		const identity = await identityOf(context);
		const lineIds = lineIdsOf(context, 'attachTo.channels');
		const name = botNameOf(context);
		refuseTakeOver(context, identity, await findBot(context, identity), state);
		const setUp = async (): Promise<number> => {
			const botId = await ensureBot(context, identity, name, { eventMode: 'fetch' });
			if (state.botId !== botId) {
				// Another bot: its events and offsets are its own.
				delete state.offset;
				delete state.recentEvents;
			}
			state.botId = botId;
			delete state.webhookUrlHash;
			delete state.webhookBaseHash;
			const before = await attachToLines(context, identity, botId, lineIds);
			state.linesBefore = { ...state.linesBefore, ...before };
			return botId;
		};
		const botId = await setUp();
		const loop = new EventLoop(context, state, {
			identity,
			botId,
			filters: filtersOf(context),
			rate: budgetSettings(credentials).requestsPerSecond,
			portal: portalHostOf(credentials),
			recover: setUp,
		});
		loop.start();
		return {
			closeFunction: async () => {
				await loop.stop();
				const current = state.botId ?? botId;
				await restoreLines(context, identity, current, lineIds, state.linesBefore ?? {}).catch(
					(error: unknown) =>
						context.logger.warn(
							`Bitrix24 Open Channels Trigger: ${triggerError(context, error).message}`,
						),
				);
			},
		};
	} catch (error) {
		throw triggerError(context, error);
	}
}
