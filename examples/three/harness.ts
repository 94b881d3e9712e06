/**
 * Node side of the example's measurement: builds the page with Vite, opens `?measure` in headless
 * Chromium (WebGPU on SwiftShader, as test/helpers/browser.ts runs it), and scores each method's
 * last frame against the supersampled reference in Uplift's metric domain (PSNR, SSIM on the
 * tonemapped display image). Used by test/three.test.ts and compare.ts.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launchChromium, pageReport, serveDirectory } from '../../test/helpers/browser.ts';
import type { Image } from '../../src/core/image.ts';
import { linearToSrgb } from '../../src/core/tonemap.ts';
import { psnr, ssim } from '../../src/metrics/index.ts';
import type { Measurement } from './measure.ts';
import type { Method } from './pipelines.ts';

export const EXAMPLE_OUT = fileURLToPath(new URL('../../out/examples/three', import.meta.url));

/** `vite build` of the example into out/examples/three; returns Vite's output. */
export function buildExample(): string {
  const vite = fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url));
  const config = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
  const run = spawnSync(process.execPath, [vite, 'build', '-c', config], { encoding: 'utf8' });
  const log = run.stdout + run.stderr;
  if (run.status !== 0) throw new Error(`vite build failed:\n${log}`);
  return log;
}

export interface PageRun {
  measurement: Measurement & { error?: string };
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
}

/** Opens the built example with `query` and waits for its report. */
export async function runExample(query: string, timeoutMs: number): Promise<PageRun> {
  const server = await serveDirectory(EXAMPLE_OUT);
  const browser = await launchChromium(['--disable-dawn-features=timestamp_quantization']);
  try {
    const run = await pageReport<PageRun['measurement']>(
      browser,
      `${server.url}?${query}`,
      timeoutMs,
    );
    return { measurement: run.value, errors: run.errors };
  } finally {
    await browser.close();
    server.close();
  }
}

/** A base64 linear RGBA float32 image as an RGB Image. */
export function decodeImage(data: string, [width, height]: [number, number]): Image {
  const bytes = Buffer.from(data, 'base64');
  const rgba = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(rgba.subarray(i * 4, i * 4 + 3), i * 3);
  return { width, height, channels: 3, data: rgb };
}

export interface MethodScore {
  method: Method;
  psnr: number;
  ssim: number;
  /** Median wall time per frame after the first two frames, ms. */
  wallMs: number;
  /** Median GPU time per frame after the first two frames, ms (NaN without timestamps). */
  gpuMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
};

/** Each method's last frame against the reference, and its steady frame times. */
export function score(m: Measurement): MethodScore[] {
  const reference = decodeImage(m.reference, m.displaySize);
  return Object.entries(m.methods).map(([method, r]) => {
    const image = decodeImage(r.image, m.displaySize);
    return {
      method: method as Method,
      psnr: psnr(image, reference),
      ssim: ssim(image, reference),
      wallMs: median(r.frameMs.slice(2)),
      gpuMs: median(r.gpuMs.slice(2)),
    };
  });
}

/** Linear images side by side (display encoding, sRGB), `gap` pixels of black between. */
export function sideBySide(images: readonly Image[], gap = 4): Image {
  const height = images[0]!.height;
  const width = images.reduce((w, im) => w + im.width, 0) + gap * (images.length - 1);
  const data = new Float32Array(width * height * 3);
  let x0 = 0;
  for (const im of images) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < im.width; x++) {
        for (let c = 0; c < 3; c++) {
          const v = im.data[(y * im.width + x) * 3 + c]!;
          data[(y * width + x0 + x) * 3 + c] = linearToSrgb(Math.min(1, Math.max(0, v)));
        }
      }
    }
    x0 += im.width + gap;
  }
  return { width, height, channels: 3, data };
}

/** The region (x, y, width, height) of `image`, each pixel repeated `zoom` times per axis. */
export function cropZoom(image: Image, [x0, y0, w, h]: number[], zoom: number): Image {
  const [width, height] = [w! * zoom, h! * zoom];
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = ((y0! + Math.floor(y / zoom)) * image.width + x0! + Math.floor(x / zoom)) * 3;
      data.set(image.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}
