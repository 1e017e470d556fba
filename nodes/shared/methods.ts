/** The Bitrix24 REST methods the node calls. */
export const METHODS = {
	sendMessage: 'imopenlines.crm.message.add',
	activeChats: 'imopenlines.crm.chat.get',
	addChatUser: 'imopenlines.crm.chat.user.add',
	batch: 'batch',
	searchUsers: 'user.search',
	listBots: 'imbot.bot.list',
} as const;
