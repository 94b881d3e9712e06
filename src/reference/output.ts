/**
 * CPU reference of the output pass (display resolution): optional RCAS sharpening in the
 * tonemapped domain, then the inverse tonemap c / (1 − max(c)) and division by the exposure, so
 * the output is linear in the input's own scale. The GPU twin is src/gpu/passes/output.ts.
 *
 * RCAS (robust contrast-adaptive sharpening, from AMD FidelityFX FSR 1, as FSR 2 applies it): a
 * negative-lobed 5-tap cross whose lobe is limited so that the result never leaves the local
 * min/max, attenuated where the centre looks like noise. `sharpness` 0..1 maps to 2^(2s − 2)
 * (FSR 2's 0..2 stops: 1 = strongest).
 */
import { createImage, type Image } from '../core/image.ts';
import { saturate, texel } from './common.ts';
import { rcasScale, MAX_TONEMAPPED } from '../core/pass-constants.ts';

const RCAS_LIMIT = 0.25 - 1 / 16;

/** Linear display output (rgb, a = 1) from a tonemapped image (rgb in [0, 1)). */
export function outputCpu(tonemapped: Image, exposure: number, sharpness?: number): Image {
  const { width, height } = tonemapped;
  const out = createImage(width, height, 4);
  const at = (x: number, y: number) => [0, 1, 2].map((c) => texel(tonemapped, x, y, c));
  const rcasLuma = (c: number[]) => c[2]! * 0.5 + (c[0]! * 0.5 + c[1]!);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const e = at(x, y);
      let v = e;
      if (sharpness !== undefined) {
        const b = at(x, y - 1);
        const d = at(x - 1, y);
        const f = at(x + 1, y);
        const h = at(x, y + 1);
        let lobe = -Infinity;
        for (let c = 0; c < 3; c++) {
          const mn4 = Math.min(b[c]!, d[c]!, f[c]!, h[c]!);
          const mx4 = Math.max(b[c]!, d[c]!, f[c]!, h[c]!);
          const hitMin = Math.min(mn4, e[c]!) / Math.max(4 * mx4, 1e-6);
          const hitMax = (1 - Math.max(mx4, e[c]!)) / Math.min(4 * mn4 - 4, -1e-6);
          lobe = Math.max(lobe, Math.max(-hitMin, hitMax));
        }
        lobe = Math.max(-RCAS_LIMIT, Math.min(lobe, 0)) * rcasScale(sharpness);
        const lumas = [b, d, e, f, h].map(rcasLuma);
        const range = Math.max(...lumas) - Math.min(...lumas);
        const noise = Math.abs(0.25 * (lumas[0]! + lumas[1]! + lumas[3]! + lumas[4]!) - lumas[2]!);
        lobe *= 1 - 0.5 * saturate(noise / Math.max(range, 1e-6));
        v = [0, 1, 2].map((c) => (lobe * (b[c]! + d[c]! + f[c]! + h[c]!) + e[c]!) / (4 * lobe + 1));
      }
      const clamped = v.map((c) => Math.min(Math.max(c, 0), MAX_TONEMAPPED));
      const scale = 1 / ((1 - Math.max(...clamped)) * exposure);
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) out.data[o + c] = clamped[c]! * scale;
      out.data[o + 3] = 1;
    }
  }
  return out;
}
