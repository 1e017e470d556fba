import type { INodeProperties } from 'n8n-workflow';

/** The portal's request budget, stored with each credential: the node paces its calls by it. */
export const portalBudgetProperties: INodeProperties[] = [
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
