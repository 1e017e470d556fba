/** The Bitrix24 REST methods the node calls. */
export const METHODS = {
	sendMessage: 'imopenlines.crm.message.add',
	activeChats: 'imopenlines.crm.chat.get',
	addChatUser: 'imopenlines.crm.chat.user.add',
	batch: 'batch',
	searchUsers: 'user.search',
	listBots: 'imbot.bot.list',
	botSendMessage: 'imbot.v2.Chat.Message.send',
	botHandOver: 'imopenlines.bot.session.operator',
	botTransfer: 'imopenlines.bot.session.transfer',
	botFinish: 'imopenlines.bot.session.finish',
	sessionHistory: 'imopenlines.session.history.get',
	listOpenChannels: 'imopenlines.config.list.get',
	recentChats: 'im.recent.list',
} as const;

/**
 * The parameter that carries the bot's token on an inbound webhook, per method (lower case): imbot.v2 calls take
 * `botToken`, the bot's hand-over calls `CLIENT_ID` (imopenlines/lib/rest.php::resolveClientId). Over OAuth2 the
 * application itself is the bot's owner and nothing is added.
 */
export function botTokenParameterOf(method: string): 'botToken' | 'CLIENT_ID' | undefined {
	if (method.startsWith('imbot.v2.')) return 'botToken';
	return ['imopenlines.bot.session.transfer', 'imopenlines.bot.session.finish'].includes(method)
		? 'CLIENT_ID'
		: undefined;
}
