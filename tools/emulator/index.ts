/**
 * Bitrix24 portal emulator for tests: a real HTTP(S) server on 127.0.0.1 speaking the REST dialect the node
 * uses (webhook and OAuth auth, leaky-bucket rate limit, batch, injected faults, link jitter, a control API).
 *
 * Order of checks for a REST call: jitter hold -> injected fault -> rate limit (503, not processed) ->
 * closed portal (403) -> method lookup (404) -> auth with the method's scope (401) -> the method's own checks,
 * as Bitrix24's server code orders them (README.md: "Checked against the server code").
 * Chat lists are ordered by the dialogs' last activity, newest first.
 */
export { startEmulator } from './server';
export type { Emulator, EmulatorOptions, EmulatorState, RecordedRequest } from './types';
export type { BadAnswer, Fault, FaultFilter } from './faults';
export { BAD_ANSWERS } from './faults';
export { TEST_CA_PATH, type TlsProfile } from './tls';
export type { OAuthTokens } from './oauth';
export type { AuthKind, RecordedMessage } from './context';
export type { BudgetSettings, BudgetSnapshot } from './rateLimit';
export type { ParamRecord, ParamValue } from './params';
export type { TimeInfo, RestErrorBody } from './envelope';
export { addCampaignChats, createSeedWorld, FIRST_CAMPAIGN_CHAT } from './world';
export { addLineDialogs, addOpenLine, FIRST_LINE_DIALOG_CHAT } from './lineDialogs';
export type {
	AccessDenial,
	CrmEntity,
	CrmEntityType,
	CrmOwnerType,
	DialogStatus,
	LineRights,
	OAuthApp,
	OpenLineChat,
	PortalSettings,
	PortalUser,
	Webhook,
	World,
} from './world';
export { parseBatchCommand } from './batch';
export { callsAsked, postsAsked, restCallsOf, timesAsked, tokenCallsOf } from './record';
export { parsePhpQuery } from './params';
export * from './constants';
export { startEventReceiver, type EventReceiver, type ReceivedEvent } from './eventReceiver';
export type {
	BotWorld,
	DialogMessage,
	EventDelivery,
	LineDialog,
	OpenLine,
	QueuedEvent,
	RegisteredBot,
	SessionEvent,
} from './botWorld';
export { phpBuildQuery, chatEntityFields, dialogOf, lineChatState, sessionOpen } from './bots';
export { findBot } from './world';
