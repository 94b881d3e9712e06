import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInBrowser } from './helpers/browser.ts';

test('requestGpu works in a real browser (headless Chromium)', async () => {
  const r = await runInBrowser<{
    runtime: string;
    adapter: string;
    values: number[];
    error?: string;
  }>('test/browser/device-entry.ts');
  assert.equal(r.error, undefined);
  assert.equal(r.runtime, 'browser');
  assert.deepEqual(r.values, [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
});
