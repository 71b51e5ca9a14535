import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

describe('example configurations', () => {
  const dir = new URL('.', import.meta.url);
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s is valid', (file) => {
    expect(() => loadConfig(new URL(file, dir).pathname, {})).not.toThrow();
  });
});
