// Captures broken on purpose, in memory, for the `uplift check` tests: each break is what an
// engine gets wrong, applied to a correct data-engine sequence's loaded frames.
import type { FrameImages } from '../../src/core/frame.ts';
import { cloneImage, type Image } from '../../src/core/image.ts';
import type { CheckFrames } from '../../src/check/frames.ts';
import { viewDepth } from '../../src/reference/prepare.ts';
import { linearToSrgb } from '../../src/core/tonemap.ts';

function mapImages(
  frames: CheckFrames,
  f: (im: FrameImages, index: number) => FrameImages,
): CheckFrames {
  return { ...frames, images: new Map([...frames.images].map(([i, im]) => [i, f(im, i)])) };
}

/** Motion data multiplied per axis (sign, ×0.5, ×2, pixels instead of UV). */
export function scaleMotion(frames: CheckFrames, s: readonly [number, number]): CheckFrames {
  return mapImages(frames, (im) => {
    const motion = cloneImage(im.motion);
    for (let i = 0; i < motion.data.length; i++) motion.data[i] = motion.data[i]! * s[i % 2]!;
    return { ...im, motion };
  });
}

/** The content jittered the other way: the stored jitter negated. */
export function flipJitter(frames: CheckFrames): CheckFrames {
  return {
    ...frames,
    params: frames.params.map((p) => ({ ...p, jitter: [-p.jitter[0], -p.jitter[1]] })),
  };
}

/** Inverted depth (near = 1) stored while sequence.json says near = 0. */
export function reverseDepth(frames: CheckFrames): CheckFrames {
  return mapImages(frames, (im) => {
    const depth = cloneImage(im.depth);
    for (let i = 0; i < depth.data.length; i++) depth.data[i] = 1 - depth.data[i]!;
    return { ...im, depth };
  });
}

/** Nearest-pixel read of a 2-channel UV motion image at a UV position (clamped). */
function motionAt(motion: Image, u: number, v: number): [number, number] {
  const x = Math.min(motion.width - 1, Math.max(0, Math.floor(u * motion.width)));
  const y = Math.min(motion.height - 1, Math.max(0, Math.floor(v * motion.height)));
  const i = (y * motion.width + x) * motion.channels;
  return [motion.data[i]!, motion.data[i + 1]!];
}

/**
 * Forward vectors (uv in frame t + 1 − uv in frame t) from the backward vectors of frame t + 1:
 * f(x) = −m_{t+1}(x + f(x)), solved by a few fixed-point steps. The last frame keeps −m_t.
 */
export function forwardVectors(frames: CheckFrames): CheckFrames {
  return mapImages(frames, (im, t) => {
    const next = frames.images.get(t + 1);
    const motion = cloneImage(im.motion);
    const { width, height } = motion;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * motion.channels;
        const [u, v] = [(x + 0.5) / width, (y + 0.5) / height];
        let f: [number, number] = [-im.motion.data[i]!, -im.motion.data[i + 1]!];
        if (next) {
          for (let k = 0; k < 4; k++) {
            const m = motionAt(next.motion, u + f[0], v + f[1]);
            f = [-m[0], -m[1]];
          }
        }
        motion.data[i] = f[0];
        motion.data[i + 1] = f[1];
      }
    }
    return { ...im, motion };
  });
}

/**
 * One object without motion vectors (zero, the clear value): the surface at `center` (a share of
 * the image) and what lies in front of it within an ellipse of radius `radius` (as the training
 * motion-error model picks an object). Returns the frames and the object's mask per frame.
 */
export function dropObjectMotion(
  frames: CheckFrames,
  center: readonly [number, number],
  radius: number,
): { frames: CheckFrames; masks: Map<number, Uint8Array> } {
  const masks = new Map<number, Uint8Array>();
  const broken = mapImages(frames, (im, t) => {
    const p = { ...frames.params[t]!, depthInverted: frames.header.depthInverted };
    const { width, height } = im.motion;
    const cx = Math.floor(center[0] * width);
    const cy = Math.floor(center[1] * height);
    const z0 = viewDepth(im.depth.data[cy * width + cx]!, p);
    const mask = new Uint8Array(width * height);
    const motion = cloneImage(im.motion);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dx = (x - cx) / (radius * width);
        const dy = (y - cy) / (radius * height);
        const i = y * width + x;
        if (dx * dx + dy * dy > 1 || viewDepth(im.depth.data[i]!, p) > 1.1 * z0) continue;
        mask[i] = 1;
        motion.data[i * motion.channels] = 0;
        motion.data[i * motion.channels + 1] = 0;
      }
    }
    masks.set(t, mask);
    return { ...im, motion };
  });
  return { frames: broken, masks };
}

/**
 * Color as an 8-bit UNORM target holds sRGB-encoded values, read as linear (colorSpace stays
 * "linear"); and `nanFrame`'s first pixel NaN.
 */
export function srgbAsLinear(frames: CheckFrames, nanFrame: number): CheckFrames {
  return mapImages(frames, (im, t) => {
    const color = cloneImage(im.color);
    for (let i = 0; i < color.data.length; i++) {
      if (i % color.channels < 3)
        color.data[i] = Math.fround(Math.round(linearToSrgb(color.data[i]!) * 255) / 255);
    }
    if (t === nanFrame) color.data[0] = NaN;
    return { ...im, color };
  });
}

/** sequence.json's lens differs from the one rendered with: fovY and the far plane scaled. */
export function scaleLens(frames: CheckFrames, fovY: number, far: number): CheckFrames {
  return {
    ...frames,
    params: frames.params.map((p) => ({ ...p, fovY: p.fovY * fovY, cameraFar: p.cameraFar * far })),
  };
}

/** Depth read upside down (a texture with the other row order than color and motion). */
export function flipDepthRows(frames: CheckFrames): CheckFrames {
  return mapImages(frames, (im) => {
    const { width, height } = im.depth;
    const depth = cloneImage(im.depth);
    for (let y = 0; y < height; y++)
      depth.data.set(
        im.depth.data.subarray((height - 1 - y) * width, (height - y) * width),
        y * width,
      );
    return { ...im, depth };
  });
}
