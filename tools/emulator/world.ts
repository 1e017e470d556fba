/**
 * The emulated portal's data: users, bots, CRM entities, open-channel chats, credentials.
 * Plain arrays so tests can read and modify the live world directly.
 */
import {
	ADMIN_USER_ID,
	BOT_DIALOGS,
	BOTS,
	CHATS,
	COMPANIES,
	CONTACTS,
	CUSTOMERS,
	DEALS,
	FIRST_MESSAGE_ID,
	FULL_SCOPES,
	LEADS,
	LIMITED_SCOPES,
	LIMITED_WEBHOOK_CODE,
	OAUTH_CLIENT_ID,
	OAUTH_CLIENT_SECRET,
	OAUTH_REDIRECT_URI,
	QUOTES,
	SEED_ACTIVITY_AT,
	USERS,
	WEBHOOK_CODE,
} from './constants';
import { seedBotWorld, type BotWorld, type RegisteredBot } from './botWorld';

/** The CRM types an open-channel chat can be linked to (imopenlines/lib/crm/common.php::getCrmEntityIdByTypeCode). */
export type CrmEntityType = 'lead' | 'deal' | 'contact' | 'company';
export const CRM_ENTITY_TYPES: readonly CrmEntityType[] = ['lead', 'deal', 'contact', 'company'];
/** Other CRM types CCrmOwnerType::ResolveID knows: readable entities, but never linked to a chat. */
export type OtherCrmType = 'quote' | 'invoice' | 'smart_invoice';
const OTHER_CRM_TYPES: readonly OtherCrmType[] = ['quote', 'invoice', 'smart_invoice'];
export type CrmOwnerType = CrmEntityType | OtherCrmType;

/** Open-line dialog state; only `inProgress` dialogs accept imopenlines.crm.message.add. */
export type DialogStatus = 'new' | 'inProgress' | 'closing' | 'finished';

export interface PortalUser {
	id: number;
	name: string;
	lastName: string;
	active: boolean;
	email: string;
	workPosition: string;
}

export interface CrmEntity {
	type: CrmOwnerType;
	id: number;
	title: string;
}

export interface OpenLineChat {
	id: number;
	/** null: a chat not saved in CRM (entityId 0); no CRM chat method lists it. */
	entityType: CrmEntityType | null;
	entityId: number;
	connectorId: string;
	connectorTitle: string;
	status: DialogStatus;
	/** User and bot IDs that are members of the chat. */
	members: number[];
	/** Emulator clock (ms) of the dialog's last activity (its session's DATE_MODIFY): chat lists are newest first. */
	lastActivityAt: number;
	/**
	 * What the messenger answers a message to this chat with instead of posting it: one error (an event handler's
	 * veto is `ERROR_FROM_OTHER_MODULE`) becomes the call's code; several become `ERROR_CORE`.
	 */
	messengerErrors?: Array<{ code: string; message: string }>;
	/** CIMChat::AddUser refuses users here (chat.user.add answers WRONG_REQUEST). */
	refusesNewMembers?: boolean;
}

export interface Webhook {
	userId: number;
	code: string;
	scopes: string[];
	/** false: deactivated in Bitrix24 (it answers INVALID_CREDENTIALS, as a deleted one). Default true. */
	active?: boolean;
	/** Blocked by Bitrix24 for overload (HoldEntity): OVERLOAD_LIMIT. */
	overloaded?: boolean;
}

export interface OAuthApp {
	clientId: string;
	clientSecret: string;
	redirectUri: string;
	scopes: string[];
	/** The portal user the app's tokens act as. */
	userId: number;
	/** Blocked by Bitrix24 for overload (HoldEntity): OVERLOAD_LIMIT. */
	overloaded?: boolean;
	/** Users the application is available to (CRestUtil::checkAppAccess); unset: everyone. */
	availableTo?: number[];
}

/** Portal-wide switches the REST server checks before (or while) authenticating a call. */
export interface PortalSettings {
	/** A deleted portal, or "temporary closure of the public part of the site": every call answers 403 PORTAL_DELETED. */
	closed: boolean;
	/** The plan includes REST; false is a free plan, whose auth layer answers 401 ACCESS_DENIED. */
	restAvailable: boolean;
	/**
	 * Webhooks must come over https (401 INVALID_REQUEST otherwise), as on cloud portals; off by default, since the
	 * emulator mostly speaks http (an on-premise portal defines REST_APAUTH_ALLOW_HTTP for the same effect).
	 */
	httpsRequired: boolean;
	/** The messenger (im) module is installed; without it chat.user.add answers IM_NOT_INSTALLED. */
	imInstalled: boolean;
	/** Connectors switched off on the portal: their chats are not listed, so messages to them are refused. */
	disabledConnectors: string[];
}

/** Open-line rights (imopenlines Config::canJoin / canViewHistory), per user; the emulator has one line. */
export interface LineRights {
	/** Users who may not add others to the line's chats. */
	cannotJoin: number[];
	/** Users who may not view the line's dialog history (and so cannot be added to its chats). */
	cannotViewHistory: number[];
}

/** "User X cannot read entity Y"; everything not listed is readable by every active user and bot. */
export interface AccessDenial {
	userId: number;
	entityType: CrmEntityType;
	entityId: number;
}

export interface World {
	users: PortalUser[];
	entities: CrmEntity[];
	chats: OpenLineChat[];
	webhooks: Webhook[];
	oauthApps: OAuthApp[];
	accessDenials: AccessDenial[];
	portal: PortalSettings;
	lineRights: LineRights;
	nextMessageId: number;
	/** imbot.v2 bots, open channels, open-line dialogs and bot events (botWorld.ts). */
	imbot: BotWorld;
}

const user = (id: number, name: string, lastName: string, active = true): PortalUser => ({
	id,
	name,
	lastName,
	active,
	email: `${name.toLowerCase()}.${lastName.toLowerCase()}@example.com`,
	workPosition: '',
});

const chat = (
	id: number,
	entityType: CrmEntityType | null,
	entityId: number,
	connector: 'telegrambot' | 'whatsapp' | 'livechat',
	status: DialogStatus,
	members: number[],
): OpenLineChat => ({
	id,
	entityType,
	entityId,
	connectorId: connector,
	connectorTitle: CONNECTOR_TITLES[connector],
	status,
	members,
	// Seeded dialogs were last active in the order of their IDs, a minute apart.
	lastActivityAt: SEED_ACTIVITY_AT + (id - CHATS.LEAD_TELEGRAM_ACTIVE) * 60_000,
});

const CONNECTOR_TITLES = {
	telegrambot: 'Telegram',
	whatsapp: 'WhatsApp',
	livechat: 'Live Chat',
} as const;

/** A fresh, independent copy of the seeded portal (seeded chats were last active in the order of their IDs). */
export function createSeedWorld(): World {
	return {
		users: [
			user(USERS.ANNA_ADMIN, 'Anna', 'Admin'),
			user(USERS.OLEG_OPERATOR, 'Oleg', 'Operator'),
			user(USERS.MARIA_MANAGER, 'Maria', 'Manager'),
			user(USERS.IVAN_FORMER, 'Ivan', 'Former', false),
		],
		entities: [
			{ type: 'lead', id: LEADS.WEBSITE_INQUIRY, title: 'Website inquiry' },
			{ type: 'lead', id: LEADS.CALLBACK_REQUEST, title: 'Callback request' },
			{ type: 'lead', id: LEADS.NO_CHATS, title: 'Lead without chats' },
			{ type: 'lead', id: LEADS.RESTRICTED, title: 'Restricted lead' },
			{ type: 'deal', id: DEALS.ORDER_501, title: 'Order #501' },
			{ type: 'contact', id: CONTACTS.PAVEL_CUSTOMER, title: 'Pavel Customer' },
			{ type: 'company', id: COMPANIES.ACME, title: 'Acme LLC' },
			{ type: 'quote', id: QUOTES.SPRING_OFFER, title: 'Spring offer' },
		],
		chats: [
			chat(
				CHATS.LEAD_TELEGRAM_ACTIVE,
				'lead',
				LEADS.WEBSITE_INQUIRY,
				'telegrambot',
				'inProgress',
				[1, 27, 39],
			),
			chat(CHATS.LEAD_WHATSAPP_FINISHED, 'lead', LEADS.WEBSITE_INQUIRY, 'whatsapp', 'finished', [
				27,
			]),
			chat(CHATS.LEAD_LIVECHAT_NEW, 'lead', LEADS.WEBSITE_INQUIRY, 'livechat', 'new', [1]),
			chat(
				CHATS.LEAD2_LIVECHAT_ACTIVE,
				'lead',
				LEADS.CALLBACK_REQUEST,
				'livechat',
				'inProgress',
				[1, 27],
			),
			chat(
				CHATS.DEAL_TELEGRAM_ACTIVE,
				'deal',
				DEALS.ORDER_501,
				'telegrambot',
				'inProgress',
				[1, 27, 31],
			),
			chat(
				CHATS.CONTACT_WHATSAPP_ACTIVE,
				'contact',
				CONTACTS.PAVEL_CUSTOMER,
				'whatsapp',
				'inProgress',
				[1, 27],
			),
			chat(
				CHATS.COMPANY_LIVECHAT_ACTIVE,
				'company',
				COMPANIES.ACME,
				'livechat',
				'inProgress',
				[1, 27],
			),
			chat(CHATS.RESTRICTED_LEAD_CHAT, 'lead', LEADS.RESTRICTED, 'livechat', 'inProgress', [1]),
			// The bot dialogs (not saved in CRM): the customer and who answers are members.
			chat(BOT_DIALOGS.WITH_BOT, null, 0, 'livechat', 'inProgress', [
				CUSTOMERS.GUEST,
				BOTS.SUPPORT_BOT,
			]),
			chat(BOT_DIALOGS.WITH_BOT_TELEGRAM, null, 0, 'telegrambot', 'inProgress', [
				CUSTOMERS.TELEGRAM,
				BOTS.SUPPORT_BOT,
			]),
			chat(BOT_DIALOGS.WITH_OPERATOR, null, 0, 'whatsapp', 'inProgress', [
				CUSTOMERS.WHATSAPP,
				USERS.OLEG_OPERATOR,
			]),
			chat(BOT_DIALOGS.FINISHED, null, 0, 'livechat', 'finished', [CUSTOMERS.FORMER]),
		],
		webhooks: [
			{ userId: ADMIN_USER_ID, code: WEBHOOK_CODE, scopes: [...FULL_SCOPES] },
			{ userId: ADMIN_USER_ID, code: LIMITED_WEBHOOK_CODE, scopes: [...LIMITED_SCOPES] },
		],
		oauthApps: [
			{
				clientId: OAUTH_CLIENT_ID,
				clientSecret: OAUTH_CLIENT_SECRET,
				redirectUri: OAUTH_REDIRECT_URI,
				scopes: [...FULL_SCOPES],
				userId: ADMIN_USER_ID,
			},
		],
		accessDenials: [
			{ userId: USERS.MARIA_MANAGER, entityType: 'deal', entityId: DEALS.ORDER_501 },
			{ userId: ADMIN_USER_ID, entityType: 'lead', entityId: LEADS.RESTRICTED },
		],
		portal: {
			closed: false,
			restAvailable: true,
			httpsRequired: false,
			imInstalled: true,
			disabledConnectors: [],
		},
		lineRights: { cannotJoin: [], cannotViewHistory: [] },
		nextMessageId: FIRST_MESSAGE_ID,
		imbot: seedBotWorld(),
	};
}

export function findUser(world: World, id: number): PortalUser | undefined {
	return world.users.find((u) => u.id === id);
}

/** A bot of the portal: every bot is an imbot.v2 registration (the seeded ones too), one registry. */
export function findBot(world: World, id: number): RegisteredBot | undefined {
	return world.imbot.registered.find((b) => b.id === id);
}

export function findEntity(world: World, type: CrmOwnerType, id: number): CrmEntity | undefined {
	return world.entities.find((e) => e.type === type && e.id === id);
}

/** CCrmOwnerType::ResolveID: the type named, in any case but without spaces around it, or undefined. */
function resolveOwnerType(name: string): CrmOwnerType | undefined {
	const lower = name.toLowerCase();
	return [...CRM_ENTITY_TYPES, ...OTHER_CRM_TYPES].find((type) => type === lower);
}

/** getCrmEntityIdByTypeCode: the types a chat can be linked to, any case. */
function chatEntityType(name: string): CrmEntityType | undefined {
	const lower = name.toLowerCase();
	return CRM_ENTITY_TYPES.find((type) => type === lower);
}

/**
 * Read access of a user or bot to a CRM entity. Unknown principals and non-existent entities have no access
 * (Bitrix24's permission check finds nothing to allow); a deactivated user keeps his rights, which come from his
 * roles (crm/lib/Service/UserPermissions.php never looks at the account's activity).
 */
export function canRead(
	world: World,
	principalId: number,
	type: CrmOwnerType,
	id: number,
): boolean {
	const principalOk =
		findUser(world, principalId) !== undefined || findBot(world, principalId) !== undefined;
	if (!principalOk || !findEntity(world, type, id)) return false;
	return !world.accessDenials.some(
		(d) => d.userId === principalId && d.entityType === type && d.entityId === id,
	);
}

/**
 * imopenlines/lib/crm/common.php::hasAccessToEntity: an empty type or exactly "NONE" is let through unchecked; a
 * type ResolveID does not know has no access; otherwise the CRM's read permission.
 */
export function hasAccessToEntity(
	world: World,
	typeName: string,
	id: number,
	principalId: number,
): boolean {
	if (typeName === '' || typeName === '0' || typeName === 'NONE') return true;
	const type = resolveOwnerType(typeName);
	return type !== undefined && canRead(world, principalId, type, id);
}

const newestFirst = (a: OpenLineChat, b: OpenLineChat): number =>
	b.lastActivityAt - a.lastActivityAt || b.id - a.id;

/**
 * imopenlines/lib/crm/common.php::getChatsByCrmEntity: the entity's chats of the portal's enabled connectors, newest
 * activity first (ORDER BY session DATE_MODIFY DESC); active only means a dialog in progress (session status 10..49).
 * Types other than lead, deal, contact and company have none.
 */
export function chatsByCrmEntity(
	world: World,
	typeName: string,
	id: number,
	activeOnly = true,
): OpenLineChat[] {
	const type = chatEntityType(typeName);
	return world.chats
		.filter((c) => c.entityType === type && c.entityId === id)
		.filter((c) => !activeOnly || c.status === 'inProgress')
		.filter((c) => !world.portal.disabledConnectors.includes(c.connectorId))
		.sort(newestFirst);
}

/** checkChatOfCrmEntity: the chat is one of the entity's chats with a dialog in progress. */
export function isChatOfCrmEntity(
	world: World,
	typeName: string,
	id: number,
	chatId: number,
): boolean {
	return chatsByCrmEntity(world, typeName, id).some((c) => c.id === chatId);
}

/** getLastChatIdByCrmEntity: the chat of the entity's most recently updated open-line activity, whatever its dialog; 0 if none. */
export function lastChatIdOf(world: World, typeName: string, id: number): number {
	const type = chatEntityType(typeName);
	const chats = world.chats
		.filter((c) => c.entityType === type && c.entityId === id)
		.sort(newestFirst);
	return chats[0]?.id ?? 0;
}

/** Campaign chats get IDs from here on, clear of the seeded ones. */
export const FIRST_CAMPAIGN_CHAT = 100_000;

/**
 * Adds `count` chats in progress on lead 1195 (IDs FIRST_CAMPAIGN_CHAT, +1...), Oleg (27) a member of each:
 * one chat per customer, as a campaign has. The portal only checks that a chat belongs to the entity and
 * the sender is in it, so they can all hang on one lead.
 */
export function addCampaignChats(world: World, count: number): number[] {
	const ids = Array.from({ length: count }, (_, index) => FIRST_CAMPAIGN_CHAT + index);
	for (const id of ids) {
		world.chats.push({
			id,
			entityType: 'lead',
			entityId: LEADS.WEBSITE_INQUIRY,
			connectorId: 'telegrambot',
			connectorTitle: 'Telegram',
			status: 'inProgress',
			members: [USERS.ANNA_ADMIN, USERS.OLEG_OPERATOR],
			lastActivityAt: SEED_ACTIVITY_AT + id * 60_000,
		});
	}
	return ids;
}
