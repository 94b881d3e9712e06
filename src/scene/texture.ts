/** RGBA8 textures with full mip chains, built on the CPU and uploaded once per renderer. */
import { srgbByte, srgbToLinear } from '../core/tonemap.ts';
import type { TextureData } from './types.ts';

/**
 * Builds a texture from level-0 RGBA8 pixels and box-filtered mips (averaged in linear light for
 * sRGB textures, so that dark/bright detail keeps its mean brightness at a distance). With
 * `alphaCutoff` (alpha-tested textures), each mip's alpha is scaled so the fraction of texels
 * passing the test stays that of level 0: thin bars and leaves don't vanish in the distance.
 */
export function textureWithMips(
  width: number,
  height: number,
  level0: Uint8Array,
  srgb: boolean,
  label?: string,
  alphaCutoff?: number,
): TextureData {
  if (level0.length !== width * height * 4) {
    throw new RangeError(
      `texture ${label ?? ''} has ${level0.length} bytes, expected ${width * height * 4}`,
    );
  }
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = srgb ? srgbToLinear(v / 255) : v / 255;
  const levels = [level0];
  let [w, h] = [width, height];
  // Plain loops: `Float32Array.from` with a mapping function cost a tenth of a training step.
  let current = new Float32Array(level0.length);
  for (let i = 0; i < level0.length; i++) {
    current[i] = (i & 3) < 3 ? lut[level0[i]!]! : level0[i]! / 255;
  }
  while (w > 1 || h > 1) {
    const nw = Math.max(1, w >> 1);
    const nh = Math.max(1, h >> 1);
    const next = new Float32Array(nw * nh * 4);
    for (let y = 0; y < nh; y++) {
      for (let x = 0; x < nw; x++) {
        for (let c = 0; c < 4; c++) {
          let s = 0;
          let k = 0;
          for (let dy = 0; dy < 2; dy++) {
            for (let dx = 0; dx < 2; dx++) {
              const sx = Math.min(w - 1, 2 * x + dx);
              const sy = Math.min(h - 1, 2 * y + dy);
              s += current[(sy * w + sx) * 4 + c]!;
              k++;
            }
          }
          next[(y * nw + x) * 4 + c] = s / k;
        }
      }
    }
    const level = new Uint8Array(next.length);
    for (let i = 0; i < next.length; i++) level[i] = byteOf(next[i]!, srgb && (i & 3) < 3);
    if (alphaCutoff !== undefined)
      preserveCoverage(level, alphaCutoff, coverage(level0, alphaCutoff, 1));
    levels.push(level);
    current = next;
    [w, h] = [nw, nh];
  }
  return { width, height, levels, srgb, ...(label ? { label } : {}) };
}

/** The 8-bit code of a value in [0, 1] (clamped), sRGB-encoded where `srgb`. */
function byteOf(v: number, srgb: boolean): number {
  return srgb ? srgbByte(v) : Math.round(Math.min(1, Math.max(0, v)) * 255);
}

/** Fraction of texels whose alpha · scale passes the cutoff. */
function coverage(rgba: Uint8Array, cutoff: number, scale: number): number {
  let passed = 0;
  for (let i = 3; i < rgba.length; i += 4) if ((rgba[i]! / 255) * scale >= cutoff) passed++;
  return passed / (rgba.length / 4);
}

/** Scales alpha in place (bisection on the scale) so that its coverage approaches `target`. */
function preserveCoverage(rgba: Uint8Array, cutoff: number, target: number): void {
  let lo = 0;
  let hi = 16;
  for (let k = 0; k < 20; k++) {
    const mid = (lo + hi) / 2;
    if (coverage(rgba, cutoff, mid) < target) lo = mid;
    else hi = mid;
  }
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = Math.min(255, Math.round(rgba[i]! * hi));
}

/**
 * A texture from a function of (u, v) in [0, 1) (pixel centres) returning RGBA in [0, 1]
 * (linear for sRGB textures: they are encoded here).
 */
export function proceduralTexture(
  size: number,
  srgb: boolean,
  fn: (u: number, v: number) => [number, number, number, number],
  label?: string,
  alphaCutoff?: number,
): TextureData {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const rgba = fn((x + 0.5) / size, (y + 0.5) / size);
      for (let c = 0; c < 4; c++) data[(y * size + x) * 4 + c] = byteOf(rgba[c]!, srgb && c < 3);
    }
  }
  return textureWithMips(size, size, data, srgb, label, alphaCutoff);
}

/** Uploads a texture with all its levels. */
export function uploadTexture(device: GPUDevice, texture: TextureData): GPUTexture {
  const gpuTexture = device.createTexture({
    label: texture.label,
    size: [texture.width, texture.height],
    format: texture.srgb ? 'rgba8unorm-srgb' : 'rgba8unorm',
    mipLevelCount: texture.levels.length,
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  let [w, h] = [texture.width, texture.height];
  texture.levels.forEach((level, mipLevel) => {
    device.queue.writeTexture(
      { texture: gpuTexture, mipLevel },
      level as Uint8Array<ArrayBuffer>,
      { bytesPerRow: w * 4 },
      [w, h],
    );
    [w, h] = [Math.max(1, w >> 1), Math.max(1, h >> 1)];
  });
  return gpuTexture;
}
