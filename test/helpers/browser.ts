/**
 * Runs a TypeScript entry in headless Chromium (Debian's `chromium`, WebGPU on SwiftShader) and
 * returns what it reports. The entry is bundled with esbuild, served from 127.0.0.1 (a secure
 * context, which WebGPU needs), and must call `window.__report(value)` once with JSON-able data.
 */
import { createServer } from 'node:http';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function runInBrowser<T>(entry: string, timeoutMs = 60_000): Promise<T> {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['webgpu'],
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
  const browser = await chromium.launch({
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
    ],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    let report: (v: unknown) => void = () => {};
    const result = new Promise((resolve) => (report = resolve));
    await page.exposeFunction('__report', (v: unknown) => report(v));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`browser run timed out; page errors: ${errors.join('; ')}`)),
        timeoutMs,
      );
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    const value = await Promise.race([result, timeout]).finally(() => clearTimeout(timer));
    return value as T;
  } finally {
    await browser.close();
    server.close();
  }
}
