import { z } from 'zod';

// Placeholder: the catalog adapters (issue 5) flesh this out.
export const CatalogConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('duckdb') }).strict(),
  z.object({ type: z.literal('glue'), database: z.string().min(1) }).strict(),
]);
export type CatalogConfig = z.infer<typeof CatalogConfig>;
