import type { INodeProperties } from 'n8n-workflow';

import { budgetFields } from '../../../nodes/shared/budgetFields';
import { DEFAULT_BUDGET } from '../../../nodes/shared/pacing';

function property(name: string): INodeProperties {
	const found = budgetFields.find((p) => p.name === name);
	if (!found) throw new Error(`The budget has no property ${name}`);
	return found;
}

describe("the portal's request budget both credentials carry", () => {
	it('has the request budget of a standard plan by default, naming the Enterprise one', () => {
		const requestsPerSecond = property('requestsPerSecond');
		expect(requestsPerSecond.type).toBe('number');
		expect(requestsPerSecond.default).toBe(2);
		expect(requestsPerSecond.description).toContain('5');

		const burstLimit = property('burstLimit');
		expect(burstLimit.type).toBe('number');
		expect(burstLimit.default).toBe(50);
		expect(burstLimit.description).toContain('250');
	});

	it('defaults to the budget the nodes assume when a credential has none', () => {
		expect(property('requestsPerSecond').default).toBe(DEFAULT_BUDGET.requestsPerSecond);
		expect(property('burstLimit').default).toBe(DEFAULT_BUDGET.burstLimit);
	});
});
