/**
 * The emulated portal's data: users, bots, CRM entities, open-channel chats, credentials.
 * Plain arrays so tests can read and modify the live world directly.
 */
import {
	ADMIN_USER_ID,
	BOTS,
	CHATS,
	COMPANIES,
	CONTACTS,
	DEALS,
	FIRST_MESSAGE_ID,
	FULL_SCOPES,
	LEADS,
	LIMITED_SCOPES,
	LIMITED_WEBHOOK_CODE,
	OAUTH_CLIENT_ID,
	OAUTH_CLIENT_SECRET,
	OAUTH_REDIRECT_URI,
	USERS,
	WEBHOOK_CODE,
} from './constants.cjs';

export type CrmEntityType = 'lead' | 'deal' | 'contact' | 'company';
export const CRM_ENTITY_TYPES: readonly CrmEntityType[] = ['lead', 'deal', 'contact', 'company'];

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

export interface PortalBot {
	id: number;
	name: string;
	code: string;
	/** Bitrix24's "open line" flag: the bot may serve open channels. */
	openline: boolean;
}

export interface CrmEntity {
	type: CrmEntityType;
	id: number;
	title: string;
}

export interface OpenLineChat {
	id: number;
	entityType: CrmEntityType;
	entityId: number;
	connectorId: string;
	connectorTitle: string;
	status: DialogStatus;
	/** User and bot IDs that are members of the chat. */
	members: number[];
}

export interface Webhook {
	userId: number;
	code: string;
	scopes: string[];
}

export interface OAuthApp {
	clientId: string;
	clientSecret: string;
	redirectUri: string;
	scopes: string[];
	/** The portal user the app's tokens act as. */
	userId: number;
}

/** "User X cannot read entity Y"; everything not listed is readable by every active user and bot. */
export interface AccessDenial {
	userId: number;
	entityType: CrmEntityType;
	entityId: number;
}

export interface World {
	users: PortalUser[];
	bots: PortalBot[];
	entities: CrmEntity[];
	chats: OpenLineChat[];
	webhooks: Webhook[];
	oauthApps: OAuthApp[];
	accessDenials: AccessDenial[];
	nextMessageId: number;
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
	entityType: CrmEntityType,
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
});

const CONNECTOR_TITLES = {
	telegrambot: 'Telegram',
	whatsapp: 'WhatsApp',
	livechat: 'Live Chat',
} as const;

/** A fresh, independent copy of the seeded portal (chat IDs grow with recency within an entity). */
export function createSeedWorld(): World {
	return {
		users: [
			user(USERS.ANNA_ADMIN, 'Anna', 'Admin'),
			user(USERS.OLEG_OPERATOR, 'Oleg', 'Operator'),
			user(USERS.MARIA_MANAGER, 'Maria', 'Manager'),
			user(USERS.IVAN_FORMER, 'Ivan', 'Former', false),
		],
		bots: [
			{ id: BOTS.SUPPORT_BOT, name: 'SupportBot', code: 'supportbot', openline: true },
			{ id: BOTS.SURVEY_BOT, name: 'SurveyBot', code: 'surveybot', openline: false },
		],
		entities: [
			{ type: 'lead', id: LEADS.WEBSITE_INQUIRY, title: 'Website inquiry' },
			{ type: 'lead', id: LEADS.CALLBACK_REQUEST, title: 'Callback request' },
			{ type: 'lead', id: LEADS.NO_CHATS, title: 'Lead without chats' },
			{ type: 'lead', id: LEADS.RESTRICTED, title: 'Restricted lead' },
			{ type: 'deal', id: DEALS.ORDER_501, title: 'Order #501' },
			{ type: 'contact', id: CONTACTS.PAVEL_CUSTOMER, title: 'Pavel Customer' },
			{ type: 'company', id: COMPANIES.ACME, title: 'Acme LLC' },
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
		nextMessageId: FIRST_MESSAGE_ID,
	};
}

export function findUser(world: World, id: number): PortalUser | undefined {
	return world.users.find((u) => u.id === id);
}

export function findBot(world: World, id: number): PortalBot | undefined {
	return world.bots.find((b) => b.id === id);
}

export function findEntity(world: World, type: CrmEntityType, id: number): CrmEntity | undefined {
	return world.entities.find((e) => e.type === type && e.id === id);
}

/**
 * Read access of a user or bot to a CRM entity. Unknown or deactivated principals and
 * non-existent entities have no access (Bitrix24's permission check finds nothing to allow).
 */
export function canRead(
	world: World,
	principalId: number,
	type: CrmEntityType,
	id: number,
): boolean {
	const principalOk =
		findUser(world, principalId)?.active === true || findBot(world, principalId) !== undefined;
	if (!principalOk || !findEntity(world, type, id)) return false;
	return !world.accessDenials.some(
		(d) => d.userId === principalId && d.entityType === type && d.entityId === id,
	);
}

/** The entity's chats, oldest first (chat IDs grow with recency). */
export function chatsOfEntity(world: World, type: CrmEntityType, id: number): OpenLineChat[] {
	return world.chats
		.filter((c) => c.entityType === type && c.entityId === id)
		.sort((a, b) => a.id - b.id);
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
		});
	}
	return ids;
}
