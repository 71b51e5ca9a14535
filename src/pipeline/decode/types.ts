import type { ErrorCode } from '../../core/errors.js';
import type { InventoryChange } from '../../core/model.js';

/** What a decoder extracts from one raw record; the normalizer adds identity and timing. */
export type ChangeFields = Pick<
  InventoryChange,
  'eventType' | 'sku' | 'warehouseId' | 'quantityBefore' | 'quantityAfter' | 'delta' | 'orderId' | 'customerId' | 'eventTime'
>;

export type DecodeResult = { readonly ok: true; readonly fields: ChangeFields } | { readonly ok: false; readonly code: ErrorCode; readonly reason: string };

export const decodeFailure = (code: ErrorCode, reason: string): DecodeResult => ({ ok: false, code, reason });
