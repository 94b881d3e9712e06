/**
 * Runs a TypeScript entry in headless Chromium (Debian's `chromium`, WebGPU on SwiftShader) and
 * returns what it reports. The entry is bundled with esbuild, served from 127.0.0.1 (a secure
 * context, which WebGPU needs), and must call `window.__report(value)` once with JSON-able data.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function runInBrowser<T>(entry: string, timeoutMs = 60_000): Promise<T> {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['webgpu'],
    // Weights imported by an entry arrive as bytes (a Uint8Array) inside the bundle.
    loader: { '.uplift': 'binary' },
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text;
  const html = `<!doctype html><meta charset="utf-8"><script type="module">${script.replace(/<\/script/g, '<\\/script')}</script>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    return await openInBrowser<T>(`http://127.0.0.1:${port}/`, timeoutMs);
  } finally {
    server.close();
  }
}

/**
 * Opens `url` in a new page of `browser` and waits for the value the page passes to
 * `window.__report(value)`; also returns the page's console errors and uncaught exceptions. A
 * timeout rejects, naming them.
 */
export async function pageReport<T>(
  browser: Browser,
  url: string,
  timeoutMs: number,
): Promise<{ value: T; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(e.message));
  let report: (v: unknown) => void = () => {};
  const result = new Promise((resolve) => (report = resolve));
  await page.exposeFunction('__report', (v: unknown) => report(v));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${url} timed out; page errors: ${errors.join('; ')}`)),
      timeoutMs,
    );
  });
  await page.goto(url);
  const value = await Promise.race([result, timeout]).finally(() => clearTimeout(timer));
  return { value: value as T, errors };
}

/**
 * Opens `url` in headless Chromium (WebGPU on SwiftShader) and returns the value the page passes
 * to `window.__report(value)`; a timeout names the page's errors.
 */
export async function openInBrowser<T>(url: string, timeoutMs = 60_000): Promise<T> {
  const browser = await launchChromium();
  try {
    return (await pageReport<T>(browser, url, timeoutMs)).value;
  } finally {
    await browser.close();
  }
}

/**
 * Headless Chromium with WebGPU on SwiftShader (close it when done); `extraArgs` are added to the
 * command line.
 */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-webgpu-adapter=swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

/**
 * Serves the files under `root` from 127.0.0.1 (a static host, as an app's dist/ is deployed) and
 * records each path requested.
 */
export async function serveDirectory(
  root: string,
): Promise<{ url: string; requests: string[]; close(): void }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, requests, close: () => server.close() };
}
