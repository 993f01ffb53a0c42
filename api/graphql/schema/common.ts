import { builder } from '../builder.ts';

/** Shared small types: sort order, delete payload. */
export const SortOrder = builder.enumType('SortOrder', {
  values: ['ASCENDING', 'DESCENDING'] as const,
});

export interface Deleted {
  deletedId: string;
}

export const DeletePayload = builder.objectRef<Deleted>('DeletePayload').implement({
  description: 'What was deleted, by global id.',
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'deletedId' in v,
  fields: (t) => ({ deletedId: t.exposeID('deletedId') }),
});
