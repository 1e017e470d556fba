import type * as ActionNode from '../../nodes/Bitrix24OpenChannels/Bitrix24OpenChannels.node';

/*
 * The package's node classes, loaded from their sources by their full file names: for `X.node`, Node's own
 * resolver (which tsx extends) tries `X.node.json`, the codex beside the node, before tsx's `X.node.ts`.
 */
export const { Bitrix24OpenChannels } =
	require('../../nodes/Bitrix24OpenChannels/Bitrix24OpenChannels.node.ts') as typeof ActionNode;
