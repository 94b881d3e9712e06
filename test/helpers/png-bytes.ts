// Hand-built PNG files for tests of the reader's checks: chunks with correct CRCs around whatever
// image data a test wants (short, long, interlaced), so that only the property under test is wrong.
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { ADAM7 } from '../../src/io/png.ts';

/** One PNG chunk: length, type, data, CRC of type and data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = new TextEncoder().encode(type);
  out.set(typeBytes, 4);
  out.set(data, 8);
  const body = out.subarray(4, 8 + data.length);
  view.setUint32(8 + data.length, crc32(body) >>> 0);
  return out;
}

export interface PngHeaderFields {
  width: number;
  height: number;
  bitDepth?: number;
  colorType?: number;
  interlace?: 0 | 1;
}

/**
 * A complete PNG: signature, IHDR, `extra` chunks (e.g. PLTE), one IDAT holding `imageData`
 * deflated, IEND.
 */
export function buildPng(
  fields: PngHeaderFields,
  imageData: Uint8Array,
  extra: Uint8Array[] = [],
): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, fields.width);
  view.setUint32(4, fields.height);
  ihdr[8] = fields.bitDepth ?? 8;
  ihdr[9] = fields.colorType ?? 0;
  ihdr[12] = fields.interlace ?? 0;
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    ...extra,
    pngChunk('IDAT', new Uint8Array(deflateSync(imageData))),
    pngChunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The inflated image data (all IDAT chunks) of a PNG. */
export function pngImageData(png: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [];
  for (let pos = 8; pos < png.length;) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    if (type === 'IDAT') parts.push(png.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
  }
  return new Uint8Array(inflateSync(Buffer.concat(parts)));
}

/** 8-bit pixels (`channels` per pixel) as Adam7-interlaced image data, filter type 0 per row. */
export function adam7ImageData(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
): Uint8Array {
  const out: number[] = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    if (x0 >= width || y0 >= height) continue;
    for (let y = y0; y < height; y += dy) {
      out.push(0);
      for (let x = x0; x < width; x += dx) {
        const at = (y * width + x) * channels;
        out.push(...pixels.subarray(at, at + channels));
      }
    }
  }
  return Uint8Array.from(out);
}
