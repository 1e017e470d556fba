/**
 * Batch commands, query strings and form bodies are read as PHP 8's parse_url and parse_str read them
 * (main/php_variables.c, ext/standard/url.c): each expectation below is what PHP 8.2's parse_str gave.
 */
import { parseBatchCommand, parsePhpQuery } from '../../../tools/emulator';

describe('parse_str', () => {
	it.each([
		[
			'a key is url-decoded before its brackets are read',
			'a%5Bb%5D=1&c[d%5De]=2',
			{ a: { b: '1' }, c: { d: '2' } },
		],
		[
			'a name loses leading spaces; its spaces and dots become _',
			'%20%20a.b%20c=1',
			{ a_b_c: '1' },
		],
		['a NUL ends a key (here inside an unclosed bracket)', 'a[b%00c]=1', { a_b: '1' }],
		['[] and [ ] are the next index', 'a[]=1&a[%20]=2&a[%0A]=3', { a: { 0: '1', 1: '2', 2: '3' } }],
		[
			'two spaces, or a space before text, are a key',
			'a[%20%20]=1&a[%20x]=2',
			{ a: { '  ': '1', ' x': '2' } },
		],
		[
			'the next index follows the largest integer key',
			'a[]=1&a[5]=2&a[]=3',
			{ a: { 0: '1', 5: '2', 6: '3' } },
		],
		['an unclosed bracket of the name becomes _', 'a[b=1&c[d.e f=2', { a_b: '1', c_d_e_f: '2' }],
		['an unclosed bracket later ends the path', 'a[b][c=1', { a: { b: '1' } }],
		[
			'what follows a ] other than [ is dropped',
			'a[b]x[c]=1&d[e]]=2',
			{ a: { b: '1' }, d: { e: '2' } },
		],
		['a [ inside a key stays', 'a[x[y]=1', { a: { 'x[y': '1' } }],
		[
			'a nested key replaces a value, and a value a nested one',
			'a=1&a[b]=2&c[d]=3&c=4',
			{ a: { b: '2' }, c: '4' },
		],
		['01 and 1 are two keys', 'a[01]=1&a[1]=2', { a: { '01': '1', 1: '2' } }],
		['empty pairs and nameless keys are skipped', '&&a=1&&b&[c]=2', { a: '1', b: '' }],
		['a broken escape stays as it is; + is a space', 'x=%ZZ%4+%2B', { x: '%ZZ%4 +' }],
	])('%s', (_case, query, params) => {
		expect(parsePhpQuery(query)).toEqual(params);
	});

	it('keeps __proto__ as a key of its own', () => {
		const params = parsePhpQuery('a[__proto__][b]=1&__proto__=2');

		expect(Object.getPrototypeOf(params.a)).toBe(Object.prototype);
		expect(Object.entries(params.a as object)).toEqual([['__proto__', { b: '1' }]]);
		expect(Object.keys(params)).toEqual(['a', '__proto__']);
	});

	it('reads at most 1,000 pairs (max_input_vars)', () => {
		const params = parsePhpQuery(`${'a[]=1&'.repeat(1001)}tail=1`);

		expect(Object.keys(params.a as object)).toHaveLength(1000);
		expect(params.tail).toBeUndefined();
	});

	it('drops the whole parameter nested deeper than 64 (max_input_nesting_level)', () => {
		const deep = (levels: number) => `a${'[x]'.repeat(levels)}`;

		expect(Object.keys(parsePhpQuery(`${deep(64)}=1&b=2`))).toEqual(['a', 'b']);
		expect(parsePhpQuery(`a[y]=0&${deep(65)}=1&b=2`)).toEqual({ b: '2' });
	});
});

describe('parse_url of a batch command', () => {
	it('ends the command at a #: the rest (here the bot token) is lost', () => {
		expect(parseBatchCommand('m?fields[a#b]=1&botToken=t')).toEqual({
			method: 'm',
			params: { fields_a: '' },
		});
	});

	it('turns control characters into _', () => {
		expect(parseBatchCommand('m?a=1\u0001b&c\u0000=2')).toEqual({
			method: 'm',
			params: { a: '1_b', c_: '2' },
		});
	});

	it('reads a key that is not encoded as the parameters it spells, a percent-encoded one as one key', () => {
		const key = 'X&dialogId=chat2002&Y';

		expect(parseBatchCommand(`m?dialogId=chat2001&fields[LINK][${key}]=z`).params).toEqual({
			dialogId: 'chat2002',
			fields: { LINK: '' },
			'Y]': 'z',
		});
		expect(
			parseBatchCommand(`m?dialogId=chat2001&fields[LINK][${encodeURIComponent(key)}]=z`).params,
		).toEqual({ dialogId: 'chat2001', fields: { LINK: { [key]: 'z' } } });
	});
});
