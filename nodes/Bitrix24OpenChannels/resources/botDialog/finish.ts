import type { INodeProperties } from 'n8n-workflow';

import { chatIdField } from './fields';

export const finishDescription: INodeProperties[] = [chatIdField('finish')];
