/** Look-up methods that supply message.add's parameters: users, bots, CRM items, scopes. */
import { PAGE_SIZE } from './constants';
import type { CallContext, MethodOutcome } from './context';
import { Errors } from './envelope';
import {
	entriesOf,
	isRecord,
	parseFlag,
	parseInteger,
	scalarString,
	type ParamRecord,
	type ParamValue,
} from './params';
import { canRead, findUser, type CrmEntityType, type PortalUser } from './world';

function userFields(u: PortalUser): Record<string, unknown> {
	return {
		ID: String(u.id),
		ACTIVE: u.active,
		NAME: u.name,
		LAST_NAME: u.lastName,
		SECOND_NAME: '',
		EMAIL: u.email,
		WORK_POSITION: u.workPosition,
		USER_TYPE: 'employee',
	};
}

/** Bitrix24 list paging: `start` offset, pages of 50, `next` only while more remain. */
function page<T>(
	items: readonly T[],
	params: ParamRecord,
	render: (item: T) => unknown,
): MethodOutcome {
	const start = Math.max(0, parseInteger(params.start) ?? 0);
	const next = start + PAGE_SIZE;
	return {
		result: items.slice(start, next).map(render),
		total: items.length,
		...(next < items.length ? { next } : {}),
	};
}

const contains = (haystack: string, needle: string): boolean =>
	haystack.toLowerCase().includes(needle.toLowerCase());

const idList = (value: ParamValue): number[] =>
	(Array.isArray(value) || isRecord(value) ? entriesOf(value).map(([, v]) => v) : [value])
		.map((v) => parseInteger(v))
		.filter((n): n is number => n !== undefined);

/** Supported user filter keys; unknown keys are ignored, like Bitrix24 ignores unknown fields. */
const USER_FILTERS: Readonly<Record<string, (u: PortalUser, value: ParamValue) => boolean>> = {
	FIND: (u, v) => {
		const text = scalarString(v) ?? '';
		return [u.name, u.lastName, `${u.name} ${u.lastName}`, `${u.lastName} ${u.name}`, u.email].some(
			(f) => contains(f, text),
		);
	},
	NAME: (u, v) => contains(u.name, scalarString(v) ?? ''),
	LAST_NAME: (u, v) => contains(u.lastName, scalarString(v) ?? ''),
	EMAIL: (u, v) => contains(u.email, scalarString(v) ?? ''),
	ID: (u, v) => idList(v).includes(u.id),
	ACTIVE: (u, v) => parseFlag(v) === undefined || u.active === parseFlag(v),
};

const NON_FILTER_PARAMS = new Set(['start', 'sort', 'order', 'ADMIN_MODE', 'FILTER', 'filter']);

/** FILTER {...} or, as user.get also allows, filter fields at the top level. Bots are never listed. */
function userList(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const explicit = params.FILTER ?? params.filter;
	const filter = isRecord(explicit)
		? explicit
		: Object.fromEntries(Object.entries(params).filter(([k]) => !NON_FILTER_PARAMS.has(k)));
	const checks = Object.entries(filter).flatMap(([key, value]) => {
		const check = USER_FILTERS[key.toUpperCase()];
		return check ? [(u: PortalUser) => check(u, value)] : [];
	});
	const users = ctx.world.users
		.filter((u) => checks.every((check) => check(u)))
		.sort((a, b) => a.id - b.id);
	return page(users, params, userFields);
}

function userCurrent(_params: ParamRecord, ctx: CallContext): MethodOutcome {
	const me = findUser(ctx.world, ctx.callerId);
	if (!me) throw Errors.noAuth();
	return { result: userFields(me) };
}

/** Keyed by bot id (the imbot.v2 registry: the old API lists the same bots); PHP turns an empty array into `[]`. */
function botList(_params: ParamRecord, ctx: CallContext): MethodOutcome {
	const entries = ctx.world.imbot.registered.map((b) => [
		String(b.id),
		{
			ID: b.id,
			NAME: b.properties.name,
			CODE: b.code,
			OPENLINE: b.isSupportOpenline ? 'Y' : 'N',
			TYPE: 'B',
			MODULE_ID: 'rest',
		},
	]);
	return { result: entries.length === 0 ? [] : Object.fromEntries(entries) };
}

const ENTITY_TYPE_IDS: Readonly<Record<number, CrmEntityType>> = {
	1: 'lead',
	2: 'deal',
	3: 'contact',
	4: 'company',
};

/** Only the items the caller may read, like the real permission-filtered list. */
function crmItemList(params: ParamRecord, ctx: CallContext): MethodOutcome {
	const type = ENTITY_TYPE_IDS[parseInteger(params.entityTypeId) ?? 0];
	if (type === undefined) throw Errors.smartProcessNotFound();
	const items = ctx.world.entities
		.filter((e) => e.type === type && canRead(ctx.world, ctx.callerId, e.type, e.id))
		.sort((a, b) => a.id - b.id);
	const paged = page(items, params, (e) => ({
		id: e.id,
		title: e.title,
		entityTypeId: parseInteger(params.entityTypeId),
	}));
	return { ...paged, result: { items: paged.result } };
}

export const DIRECTORY_METHODS = {
	'user.current': userCurrent,
	'user.get': userList,
	'user.search': userList,
	'imbot.bot.list': botList,
	'crm.item.list': crmItemList,
	scope: (_params: ParamRecord, ctx: CallContext): MethodOutcome => ({ result: [...ctx.scopes] }),
} as const;
