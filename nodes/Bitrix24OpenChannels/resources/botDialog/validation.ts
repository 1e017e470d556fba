import { Bitrix24Failure } from '../../../shared/errors';
import { LONE_SURROGATE, MAX_MESSAGE_LENGTH, positiveIdOf } from '../../../shared/validation';

/** An invalid field of a Bot Dialog operation: ERROR_ARGUMENT naming the field, before anything is sent. */
export function invalidField(field: string, argument: string, problem: string): Bitrix24Failure {
	return new Bitrix24Failure(
		'ERROR_ARGUMENT',
		`The field "${field}" (${argument}) ${problem}`,
		null,
		argument,
	);
}

/** Shows a received value in an error without flooding it. */
function shown(value: unknown): string {
	if (value === undefined || value === null || String(value).trim() === '') return 'it is empty';
	const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
	const characters = Array.from(text);
	return `got ${characters.length > 40 ? `${characters.slice(0, 37).join('')}...` : JSON.stringify(text)}`;
}

/** A positive ID (number or digits); the error names the field. */
export function requireId(value: unknown, field: string, argument: string): number {
	const id = positiveIdOf(value);
	if (id === undefined)
		throw invalidField(field, argument, `must be a positive whole number, but ${shown(value)}`);
	return id;
}

/** The chat of an open channel dialog: its ID (1777) or its dialog ID ("chat1777", as imbot.v2 events give it). */
export function requireChatId(value: unknown): number {
	const text = typeof value === 'string' ? value.trim().replace(/^chat(?=\d)/i, '') : value;
	const id = positiveIdOf(text);
	if (id === undefined)
		throw invalidField(
			'Chat',
			'CHAT_ID',
			`must be the chat's ID (1777) or dialog ID (chat1777), but ${shown(value)}`,
		);
	return id;
}

/** Text to post: not empty, whole characters only, at most 20,000 of them (Bitrix24 would cut the rest). */
export function requireText(value: unknown): string {
	if (typeof value !== 'string' && typeof value !== 'number')
		throw invalidField('Text', 'message', `must be text, but ${shown(value)}`);
	const text = String(value);
	if (text.trim() === '')
		throw invalidField(
			'Text',
			'message',
			'is empty: write the text to send (or add an attachment)',
		);
	const broken = LONE_SURROGATE.exec(text);
	if (broken)
		throw invalidField(
			'Text',
			'message',
			`has half of an emoji or other character at position ${broken.index + 1} (the text was probably cut inside it)`,
		);
	const length = Array.from(text).length;
	if (length > MAX_MESSAGE_LENGTH)
		throw invalidField(
			'Text',
			'message',
			`is ${length} characters long; Bitrix24 accepts at most ${MAX_MESSAGE_LENGTH} and would cut the rest`,
		);
	return text;
}
