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

/**
 * The loop each active trigger runs in this process, and the latest start of each. n8n 2.41.1 was seen starting a
 * workflow's trigger twice at once on one activation (two loops then handed each event to n8n twice, and n8n's
 * deduplication lets the second replace an execution still "new"), and it closed only one of them: only the latest
 * start runs a loop (it stops the one before it), and the close of either start ends the current loop.
 */
const runningLoops = new Map<string, EventLoop>();
const latestStarts = new Map<string, object>();

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
	const loopKey = `${context.getWorkflow().id ?? ''}|${context.getNode().name}`;
	const start = {};
	latestStarts.set(loopKey, start);
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
		await runningLoops.get(loopKey)?.stop();
		const botId = await setUp();
		// Whichever start's close n8n keeps and calls, it ends the trigger: the current loop, then the channels.
		const closeFunction = async () => {
			const current = runningLoops.get(loopKey);
			runningLoops.delete(loopKey);
			await current?.stop();
			await restoreLines(
				context,
				identity,
				state.botId ?? botId,
				lineIds,
				state.linesBefore ?? {},
			).catch((error: unknown) =>
				context.logger.warn(
					`Bitrix24 Open Channels Trigger: ${triggerError(context, error).message}`,
				),
			);
		};
		// A later start of the same trigger took over while this one set the bot up: that one runs the loop.
		if (latestStarts.get(loopKey) !== start) return { closeFunction };
		const loop = new EventLoop(context, state, {
			identity,
			botId,
			filters: filtersOf(context),
			rate: budgetSettings(credentials).requestsPerSecond,
			portal: portalHostOf(credentials),
			recover: setUp,
		});
		runningLoops.set(loopKey, loop);
		loop.start();
		return { closeFunction };
	} catch (error) {
		throw triggerError(context, error);
	}
}
