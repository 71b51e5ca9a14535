import { describe, expect, it } from 'vitest';
import { IntegratorError } from './errors.js';
import { loadAdapter } from './load-adapter.js';

describe('loadAdapter', () => {
  it('hands back the loaded module', async () => {
    await expect(loadAdapter('sink.type "file"', () => Promise.resolve({ answer: 42 }))).resolves.toEqual({ answer: 42 });
  });

  it('names the adapter whose module cannot be loaded, keeping the cause', async () => {
    const missing = './no-such-adapter.js';
    const err = (await loadAdapter('sink.type "s3"', () => import(missing)).catch((e: unknown) => e)) as IntegratorError;
    expect(err).toBeInstanceOf(IntegratorError);
    expect(err.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(err.message).toMatch(/^sink\.type "s3": cannot load its module: .*no-such-adapter/);
    expect(err.cause).toBeInstanceOf(Error);
  });
});
