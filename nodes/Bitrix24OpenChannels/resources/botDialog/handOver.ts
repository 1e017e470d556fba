import type { INodeProperties } from 'n8n-workflow';

import { chatIdField } from './fields';

export const handOverDescription: INodeProperties[] = [chatIdField('handOver')];
