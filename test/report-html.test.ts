// `uplift demo` on a tiny size: the analytic sequences and the rendered city scene, report.md and
// report.html; the HTML page opened in headless Chromium: the slider component is defined (inlined,
// nothing fetched), every picture is labelled with its method, and a picker swaps its side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './helpers/browser.ts';

test(
  'uplift demo renders the city scene and writes an HTML report with A/B sliders',
  {
    timeout: 300_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uplift-demo-'));
    try {
      const run = spawnSync(
        process.execPath,
        [
          'bin/uplift.mjs',
          'demo',
          '--report',
          dir,
          '--display',
          '32x24',
          '--frames',
          '3',
          '--scene-frames',
          '3',
          '-q',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^city +neural/m);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /## city/);
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|<img[^>]+src="(?!data:)/);

      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(pathToFileURL(join(dir, 'report.html')).href);
        const state = await page.evaluate(() => ({
          defined: customElements.get('img-comparison-slider') !== undefined,
          sections: Array.from(document.querySelectorAll('h2'), (h) => h.textContent),
          labels: Array.from(document.querySelectorAll('#compare-2 .label'), (l) => l.textContent),
          cropLabels: document.querySelectorAll('.crops .label').length,
        }));
        assert.ok(state.defined, 'the slider component is defined');
        assert.deepEqual(state.sections, ['analytic-1', 'analytic-2', 'city']);
        assert.deepEqual(state.labels, ['taau', 'neural']);
        // Reference and five methods, each over its crop and its error map.
        assert.equal(state.cropLabels, 3 * 6 * 2);
        await page.selectOption('#compare-2 select[data-side="right"]', { label: 'bilinear' });
        const right = await page.locator('#compare-2 figure.right .label').textContent();
        assert.equal(right, 'bilinear');
        assert.deepEqual(errors, []);
        assert.deepEqual(
          requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
          [],
        );
      } finally {
        await browser.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
