import { describe, expect, it } from 'vitest';
import { type Rng, seededRng } from '../../../test/fixtures/random.js';
import { decodeCanonical } from './canonical.js';
import { isoMillis, scanCanonical } from './scan-canonical.js';

/** The general path the scanner shortcuts: JSON.parse, then the canonical decoder. */
function general(line: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  return decodeCanonical(value);
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const TIMES = [
  '2026-11-21T01:59:57.545+02:00', '2026-11-21T01:59:57Z', '2026-11-21T01:59:57.5Z', '2026-11-21T01:59:57.54-05:30', '2024-02-29T23:59:59.999Z',
  '2026-02-29T00:00:00Z', '2026-02-30T00:00:00Z', '2026-04-31T12:00:00Z', '2026-11-21T24:00:00Z', '2026-11-21T23:60:00Z', '2026-11-21T23:59:60Z',
  '2026-11-21T01:59:57.5451Z', '2026-11-21T01:59:57.545', '2026-11-21T01:59Z', '2026-11-21t01:59:57Z', '2026-11-21T01:59:57+24:00', '2026-11-21T01:59:57+02:60',
  '2026-11-21T01:59:57-00:00', '2026-11-21T01:59:57+0200', '1999-12-31T23:59:59Z', '2100-01-01T00:00:00Z', '2099-12-31T23:59:59.999-01:00', 'yesterday', '',
  '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '２026-11-21T01:59:57Z', '2026-11-21T01:59:57.Z', '2026-11-21 01:59:57Z',
];
const NUMBERS = ['0', '7', '-3', '198', '-0', '007', '1.5', '2.0', '1e2', '1E2', '-', '123456789012345', '1234567890123456', '9007199254740993', '"7"', 'null', 'true'];
const IDS = ['"SKU-1"', '"O-0155977"', '""', '"x"', `"${'a'.repeat(512)}"`, `"${'a'.repeat(513)}"`, '"ünï"', '"a\\"b"', '"\\u0041"', '"tab\there"', '"del\u007f"', 'null', '5', '[]', '{}'];
const TYPES = ['"sale"', '"restock"', '"remove"', '"teleport"', '"Sale"', '"sa\\u006ce"', 'null', '1'];

/** A JSON-ish line near the canonical shape, with one to three perturbations. */
function line(rng: Rng): string {
  const fields: Array<[string, string]> = [
    ['eventType', pick(rng, TYPES.slice(0, 3))],
    ['sku', '"SKU-00518"'],
    ['warehouseId', '"WH-06"'],
    ['quantityBefore', '202'],
    ['quantityAfter', '198'],
    ['orderId', '"O-0155977"'],
    ['customerId', '"C-022194"'],
    ['eventTime', `"${pick(rng, TIMES.slice(0, 5))}"`],
  ];
  if (rng() < 0.5) fields.push(['delta', '-4']);
  const n = 1 + Math.floor(rng() * 3);
  for (let k = 0; k < n; k++) {
    const f = fields[Math.floor(rng() * fields.length)]!;
    const r = rng();
    if (r < 0.15) f[1] = `"${pick(rng, TIMES)}"`;
    else if (r < 0.3) f[1] = pick(rng, NUMBERS);
    else if (r < 0.45) f[1] = pick(rng, IDS);
    else if (r < 0.5) f[1] = pick(rng, TYPES);
    else if (r < 0.55) fields.splice(fields.indexOf(f), 1);
    else if (r < 0.6) fields.push([pick(rng, ['extra', 'dynamodb', 'eventName', '__proto__', 'sku', 'note']), pick(rng, [...IDS, ...NUMBERS, '{"a":1}', '[1,2]', 'false'])]);
    else if (r < 0.65) f[0] = pick(rng, ['SKU', 'sku ', 'sk\\u0075', 'eventtime']);
    else if (r < 0.7) f[1] = String(pick(rng, [1_763_719_200, 1_763_719_200_000, 1_763_719_200.5, -5, 99_999_999_999, 100_000_000_000]));
  }
  const ws = () => (rng() < 0.1 ? pick(rng, [' ', '\t', '\r', '\n ', '  ']) : '');
  let text = `${ws()}{${fields.map(([k, v]) => `${ws()}"${k}"${ws()}:${ws()}${v}${ws()}`).join(',')}}${ws()}`;
  const r = rng();
  if (r < 0.03) text = text.slice(0, Math.floor(rng() * text.length));
  else if (r < 0.05) text += pick(rng, ['x', ',', '}', '{}']);
  else if (r < 0.06) text = `[${text}]`;
  return text;
}

describe('scanCanonical', () => {
  it('decodes the common case exactly as JSON.parse and the canonical decoder do', () => {
    const text = '{"eventType":"sale","sku":"SKU-00518","warehouseId":"WH-06","quantityBefore":202,"quantityAfter":198,"orderId":"O-0155977","customerId":"C-022194","eventTime":"2026-11-21T01:59:57.545+02:00"}';
    const fields = scanCanonical(Buffer.from(text));
    expect(fields).toBeDefined();
    expect({ ok: true, fields }).toEqual(general(text));
  });

  it('agrees with the general path on every record it accepts (50,000 perturbed records)', () => {
    const rng = seededRng(20261121);
    let accepted = 0;
    for (let k = 0; k < 50_000; k++) {
      const text = line(rng);
      const fields = scanCanonical(Buffer.from(text, 'utf8'));
      if (fields === undefined) continue;
      accepted++;
      const expected = general(text);
      if (JSON.stringify({ ok: true, fields }) !== JSON.stringify(expected)) expect({ text, fields }).toEqual({ text, fields: expected });
    }
    // Most perturbations are still valid records: the fast path must take a good share of them.
    expect(accepted).toBeGreaterThan(10_000);
  });

  it('leaves everything it does not fully understand to the general path', () => {
    for (const text of [
      '{}',
      '[]',
      '{"eventType":"sale","sku":"S\\u0031","warehouseId":"W","quantityBefore":1,"quantityAfter":2,"eventTime":"2026-11-21T01:59:57Z"}',
      '{"eventType":"sale","sku":"Sü","warehouseId":"W","quantityBefore":1,"quantityAfter":2,"eventTime":"2026-11-21T01:59:57Z"}',
      '{"eventType":"sale","sku":"S","warehouseId":"W","quantityBefore":1.0,"quantityAfter":2,"eventTime":"2026-11-21T01:59:57Z"}',
      '{"eventType":"sale","sku":"S","warehouseId":"W","quantityBefore":1,"quantityAfter":2,"eventTime":"2026-11-21T01:59:57Z","x":{"y":1}}',
      '{"eventType":"sale","sku":"S","warehouseId":"W","quantityBefore":1,"quantityAfter":2,"eventTime":"2026-11-21T01:59:57Z","dynamodb":1}',
      '{"eventType":"sale","sku":"S","warehouseId":"W","quantityBefore":1,"quantityAfter":2,"delta":3,"eventTime":"2026-11-21T01:59:57Z"}',
      '{"eventType":"sale","sku":"S","warehouseId":"W","quantityBefore":1,"quantityAfter":2,"eventTime":"2026-11-21T01:59:57"}',
      '{"eventType":"sale","sku":"S","warehouseId":"W","quantityBefore":1,"quantityAfter":2,"eventTime":"2026-11-21T01:59:57Z"} x',
    ]) {
      expect(scanCanonical(Buffer.from(text, 'utf8')), text).toBeUndefined();
    }
  });

  it('reads ISO times as Date.parse does, or not at all', () => {
    for (const t of TIMES) {
      const b = Buffer.from(t, 'utf8');
      const ms = isoMillis(b, 0, b.length);
      if (!Number.isNaN(ms)) expect(ms, t).toBe(Date.parse(t));
    }
    const rng = seededRng(7);
    for (let k = 0; k < 20_000; k++) {
      const d = new Date(Date.UTC(2000, 0, 1) + Math.floor(rng() * 100 * 365.25 * 86_400_000));
      const off = Math.floor(rng() * 24 * 60) * (rng() < 0.5 ? -1 : 1);
      const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19 + (rng() < 0.5 ? 4 : 0));
      const t = `${local}${off === 0 && rng() < 0.5 ? 'Z' : `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`}`;
      const b = Buffer.from(t, 'utf8');
      expect(isoMillis(b, 0, b.length), t).toBe(Date.parse(t));
    }
  });
});
