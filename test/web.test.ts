// The demo page (web/) in headless Chromium: the Vite build loads without console errors, every
// method, quality mode, render scale and debug view switches, stepping works, and screenshots of
// the canvas show each method's frame resembling the native render (PSNR of the upscaled
// screenshot against native's above bilinear's). A small display keeps it light on SwiftShader.
// UPLIFT_WEB_SHOTS=<dir> keeps the screenshots there (docs/images/web-demo.png comes from it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { decodePng } from '../src/io/png.ts';
import { psnr } from '../src/metrics/psnr.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { srgbToLinear } from '../src/core/tonemap.ts';
import { launchChromium, serveDirectory } from './helpers/browser.ts';

const DISPLAY = process.env.UPLIFT_WEB_DISPLAY ?? '128x96';
const SHOTS = process.env.UPLIFT_WEB_SHOTS;

interface Stats {
  frame: number;
  renderSize: [number, number];
  psnr: Record<string, number>;
  gpuMs: Record<string, Record<string, number>>;
}

let work: string;
let dist: string;
let browser: Browser | undefined;

before(
  () => {
    work = mkdtempSync(join(tmpdir(), 'uplift-web-'));
    dist = join(work, 'dist');
    const build = spawnSync(
      process.execPath,
      ['node_modules/vite/bin/vite.js', 'build', 'web', '--outDir', dist, '--emptyOutDir'],
      { encoding: 'utf8' },
    );
    assert.equal(build.status, 0, build.stdout + build.stderr);
  },
  { timeout: 120_000 },
);

after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The canvas as linear RGB (the page shows sRGB-encoded values). */
async function canvasImage(page: Page, name: string): Promise<Image> {
  const png = await page.locator('#frame').screenshot();
  if (SHOTS) writeFileSync(join(SHOTS, `${name}.png`), png);
  const { image: shown } = decodePng(png, `${name} screenshot`);
  const image = createImage(shown.width, shown.height, 3);
  for (let i = 0; i < shown.width * shown.height; i++) {
    for (let c = 0; c < 3; c++) {
      image.data[i * 3 + c] = srgbToLinear(shown.data[i * shown.channels + c]!);
    }
  }
  return image;
}

test(
  'the web demo: loads cleanly, every control switches, the upscaled frames resemble native',
  {
    timeout: 600_000,
  },
  async () => {
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    const server = await serveDirectory(dist);
    // A page that presents WebGPU frames to a canvas: with Chromium's default compositing in
    // headless mode every mapAsync after the first present failed ("A valid external Instance
    // reference no longer exists"); with ANGLE on SwiftShader it does not.
    browser = await launchChromium(['--use-angle=swiftshader']);
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      // A page error ends the test at once instead of leaving it waiting for frames.
      let failed: (e: Error) => void = () => {};
      const failure = new Promise<never>((_, reject) => (failed = reject));
      failure.catch(() => {});
      page.on('pageerror', (e) => {
        errors.push(e.message);
        failed(new Error(`page error: ${e.message}`));
      });
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      // Drawn through the CPU: headless screenshots of a WebGPU canvas come out blank (DESIGN §10).
      await page.goto(`${server.url}?display=${DISPLAY}&samples=4&present=cpu`);
      await page.waitForFunction(() => 'demo' in window, undefined, { timeout: 120_000 });
      const settle = (n: number) =>
        Promise.race([page.evaluate((k) => (window as any).demo.settle(k), n), failure]);
      const stats = (): Promise<Stats> =>
        Promise.race([page.evaluate(() => (window as any).demo.stats()), failure]);
      await settle(2);

      // Quality modes: each gives its render size (round(display / ratio)).
      const [dw] = DISPLAY.split('x').map(Number) as [number, number];
      for (const [mode, ratio] of [
        ['quality', 1.5],
        ['balanced', 1.7],
        ['ultra-performance', 3],
        ['performance', 2],
      ] as const) {
        await page.selectOption('#quality', mode);
        await settle(2);
        const s = await stats();
        assert.equal(s.renderSize[0], Math.round(dw / ratio), mode);
      }
      // Dynamic resolution: smaller inputs, the same upscalers.
      await page.selectOption('#scale', '0.55');
      await settle(2);
      // Performance (2×) at 55 %: a ratio of 3.6, kept at the upper bound 3.
      assert.equal((await stats()).renderSize[0], Math.round(dw / 3));
      await page.selectOption('#scale', '1');

      // Every debug view of the network is drawn.
      for (const view of ['kernels', 'alpha', 'beta', 'recurrent0', 'disocclusion']) {
        await page.selectOption('#debug', view);
        await settle(1);
        const size = await page.evaluate(() => {
          const c = document.getElementById('debug-view') as HTMLCanvasElement;
          return [c.width, c.height];
        });
        assert.equal(size[0], dw, view);
      }
      await page.selectOption('#debug', 'off');

      // Let history build up, then pause and step one frame.
      await settle(12);
      await page.click('#pause');
      const paused = (await stats()).frame;
      await page.click('#step');
      await settle(1);
      const s = await stats();
      assert.ok(s.frame >= paused + 1, `stepped: ${paused} → ${s.frame}`);
      // The page's own measure: both temporal methods beat bilinear against native.
      assert.ok(s.psnr.taau! > s.psnr.bilinear!, JSON.stringify(s.psnr));
      assert.ok(s.psnr.neural! > s.psnr.bilinear!, JSON.stringify(s.psnr));

      // Screenshots of the paused frame, one method on both sides of the split.
      const shots: Record<string, Image> = {};
      for (const view of ['native', 'bilinear', 'taau', 'neural']) {
        await page.selectOption('#left', view);
        await page.selectOption('#right', view);
        await page.evaluate(() => (window as any).demo.redraw());
        shots[view] = await canvasImage(page, view);
      }
      const mean = shots.native!.data.reduce((a, b) => a + b, 0) / shots.native!.data.length;
      assert.ok(mean > 0.02, `native screenshot is not black: mean ${mean}`);
      const db = Object.fromEntries(
        ['bilinear', 'taau', 'neural'].map((m) => [m, psnr(shots[m]!, shots.native!)]),
      );
      assert.ok(db.taau! > db.bilinear!, `screenshots: ${JSON.stringify(db)}`);
      assert.ok(db.neural! > db.bilinear!, `screenshots: ${JSON.stringify(db)}`);

      // The split view as the README shows it: TAAU left, neural right, the alpha view below.
      await page.selectOption('#left', 'taau');
      await page.selectOption('#right', 'neural');
      await page.selectOption('#debug', 'alpha');
      await page.click('#step');
      await settle(1);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'page.png'), fullPage: true });
      assert.deepEqual(errors, []);
      console.log(JSON.stringify({ pagePsnr: s.psnr, screenshotPsnr: db, gpuMs: s.gpuMs }));
    } finally {
      server.close();
    }
  },
);
