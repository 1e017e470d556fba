import type { INodeProperties } from 'n8n-workflow';

/**
 * The credential fields of the portal's request budget, which both credentials carry: the nodes pace their
 * calls by it. The defaults are pacing's DEFAULT_BUDGET (n8n's lint wants literals here; a test holds them equal).
 */
export const budgetFields: INodeProperties[] = [
	{
		displayName: 'Requests per Second',
		name: 'requestsPerSecond',
		type: 'number',
		default: 2,
		typeOptions: { minValue: 0.1, numberPrecision: 1 },
		description:
			'How fast the portal drains its request budget. Standard plans allow 2 per second; Enterprise plans 5.',
	},
	{
		displayName: 'Burst Limit',
		name: 'burstLimit',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 1 },
		description:
			'How many requests the portal accepts at once before limiting. Standard plans allow 50; Enterprise plans 250.',
	},
];
