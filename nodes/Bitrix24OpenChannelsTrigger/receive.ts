import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import type { BotIdentity } from '../shared/botIdentity';
import { isObject } from '../shared/json';
import { portalOf } from '../shared/transport';
import {
	baseUrlOf,
	fetchesEvents,
	identityOf,
	itemsOf,
	urlSecretOf,
	webhookUrlOf,
} from './context';
import { eventFromWebhookBody, eventItem } from './events';
import {
	firstDelivery,
	keepLearned,
	matchesHash,
	recallLearned,
	sameSecret,
	seenBefore,
	sha256,
	stateOf,
	type TriggerState,
} from './state';
import { confirmWithPortal, eventKey } from './verification';
import { parseWebhookBody } from './webhookBody';

/** An answer without an execution: 403 for what does not prove it comes from the bot's Bitrix24, 4xx for junk. */
function answer(context: IWebhookFunctions, status: number, error: string): IWebhookResponseData {
	context.getResponseObject().status(status).json({ error });
	return { noWebhookResponse: true };
}

const forbidden = (context: IWebhookFunctions) => answer(context, 403, 'forbidden');

/**
 * The request's URL secret: this credential's, or the one of the URL the bot was pointed at (a credential changed
 * since activation: Bitrix24 still posts to that URL, and its posts must not be lost until the bot is re-pointed).
 */
function urlProven(
	context: IWebhookFunctions,
	given: unknown,
	identity: BotIdentity,
	state: TriggerState,
) {
	if (sameSecret(given, urlSecretOf(identity))) return true;
	if (typeof given !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(given)) return false;
	return matchesHash(`${baseUrlOf(context)}?token=${given}`, state.webhookUrlHash);
}

/**
 * One event per request, checked in order before anything of it is trusted: the URL secret (before the body is
 * even parsed), the portal (auth.domain, auth.member_id), the bot, then Bitrix24's application_token against the
 * pinned one. A token not yet pinned, or not the pinned one (Bitrix24 rotates it with the bot's token), is pinned
 * only once the portal confirms the event's message. A delivery seen before starts nothing.
 */
export async function receiveEvent(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	// In the other modes the events come from Event.get: a post here would start a second execution of one.
	if (fetchesEvents(this)) return answer(this, 404, 'this trigger does not take posts');
	const identity = await identityOf(this);
	const state = stateOf(this);
	if (!urlProven(this, (this.getQueryData() as IDataObject).token, identity, state))
		return forbidden(this);
	// Only a request with the URL secret may have n8n write static data.
	recallLearned(this, state);
	const request = this.getRequestObject();
	const parsed = parseWebhookBody(
		request.rawBody as Buffer | undefined,
		String(request.headers['content-type'] ?? ''),
	);
	if ('refused' in parsed) return answer(this, parsed.refused, parsed.reason);
	const event = eventFromWebhookBody(parsed.body);
	const auth = event?.auth ?? {};
	const token = auth.application_token;
	if (event === undefined || typeof token !== 'string' || token === '') return forbidden(this);

	const portalHost = new URL((await portalOf(this)).origin).host.toLowerCase();
	const memberId = auth.member_id;
	if (String(auth.domain ?? '').toLowerCase() !== portalHost) return forbidden(this);
	if (typeof memberId !== 'string' || memberId === '') return forbidden(this);
	if (state.memberId !== undefined && !sameSecret(memberId, state.memberId)) return forbidden(this);
	const bot = isObject(event.data.bot) ? event.data.bot : {};
	if (state.botId !== undefined && Number(bot.id) !== state.botId) return forbidden(this);

	const item = eventItem(event);
	const key = item === undefined ? undefined : eventKey(item);
	if (!matchesHash(token, state.applicationTokenHash)) {
		// Events the trigger does not emit cannot be confirmed, nothing is lost by refusing them; and a delivery
		// already emitted under the pinned token is a replay: its new token must not be pinned.
		if (item === undefined || key === undefined || seenBefore(state, key)) return forbidden(this);
		const verdict = await confirmWithPortal(this, identity, item);
		if (verdict === 'refuse') return forbidden(this);
		if (verdict === 'pin') {
			state.applicationTokenHash = sha256(token);
			state.memberId = memberId;
			keepLearned(this, state);
		}
	}
	// n8n saves a webhook's whole static data after it: one that loaded it before activation saved the bot would
	// drop it, and n8n's next start would register the bot again. The post proved our URL and bot: keep them.
	if (state.botId === undefined && this.getMode() !== 'manual' && Number(bot.id) > 0) {
		state.botId = Number(bot.id);
		state.webhookUrlHash = sha256(webhookUrlOf(this, identity));
		state.webhookBaseHash = sha256(baseUrlOf(this));
	}
	if (item === undefined || key === undefined || !firstDelivery(state, key))
		return { webhookResponse: 'OK' };
	keepLearned(this, state);
	const items = itemsOf(this, [item]);
	return items.length === 0 ? { webhookResponse: 'OK' } : { workflowData: [items] };
}
