import type * as ActionNode from '../../nodes/Bitrix24OpenChannels/Bitrix24OpenChannels.node';
import type * as TriggerNode from '../../nodes/Bitrix24OpenChannelsTrigger/Bitrix24OpenChannelsTrigger.node';

/*
 * The package's node classes, loaded from their sources by their full file names: for `X.node`, Node's own
 * resolver (which tsx extends) tries `X.node.json`, the codex beside the node, before tsx's `X.node.ts`.
 */
export const { Bitrix24OpenChannels } =
	require('../../nodes/Bitrix24OpenChannels/Bitrix24OpenChannels.node.ts') as typeof ActionNode;
export const { Bitrix24OpenChannelsTrigger } =
	require('../../nodes/Bitrix24OpenChannelsTrigger/Bitrix24OpenChannelsTrigger.node.ts') as typeof TriggerNode;
