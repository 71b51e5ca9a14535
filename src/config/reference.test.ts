import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../scripts/config-reference.js';

describe('docs/configuration.md', () => {
  it('is generated from the current schema (run npm run docs:config)', () => {
    expect(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')).toBe(configReference());
  });
});
