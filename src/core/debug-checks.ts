/**
 * The frame API's debug mode (`createUpscaler(device, { debugChecks: true })`): what `uplift
 * check` looks for, as far as the upscaler can see it cheaply on the CPU every frame, without
 * reading a texture back: the jitter sequence (missing, frozen, in UV or NDC units, a phase count
 * other than FSR 2's), motionScale and frameTimeDelta in suspicious units, an 8-bit UNORM color
 * target read as linear. Each finding is reported once, as a
 * warning, and never stops the frame. The image-based checks (vector sign and scale, jitter sign,
 * depth orientation) need the frames themselves: run `uplift check` on a capture for those.
 */
import { halton, jitterPhaseCount } from './jitter.ts';
import type { Size } from './quality.ts';

export interface DebugWarning {
  /** Stable name, as `uplift check`'s findings (e.g. 'jitter-missing'). */
  readonly id: string;
  readonly message: string;
  /** The dispatch (counted from 0) that showed it. */
  readonly frame: number;
}

/** What the checker sees of one dispatch. */
export interface DebugFrame {
  jitter: readonly [number, number];
  motionScale: readonly [number, number];
  frameTimeDelta?: number;
  /** Texture formats of the inputs (undefined for inputs that are not textures). */
  colorFormat?: string;
}

/** Frames of jitter looked at before judging it. */
const JITTER_WINDOW = 8;

export interface DebugChecker {
  /** Checks one dispatch; warnings go to the sink given at creation. */
  frame(frame: DebugFrame): void;
}

/** `sizes` is read on every frame (an upscaler's sizes change with resize). */
export function createDebugChecker(
  sizes: () => { renderSize: Size; displaySize: Size },
  report: (warning: DebugWarning) => void,
): DebugChecker {
  const said = new Set<string>();
  let index = -1;
  const jitters: Array<readonly [number, number]> = [];
  const warn = (id: string, message: string) => {
    if (said.has(id)) return;
    said.add(id);
    report({ id, message, frame: index });
  };
  const checkJitter = () => {
    const { renderSize, displaySize } = sizes();
    const [w, h] = renderSize;
    const recent = jitters.slice(-JITTER_WINDOW);
    if (recent.length < JITTER_WINDOW) return;
    const largest = Math.max(...recent.map((j) => Math.max(Math.abs(j[0]), Math.abs(j[1]))));
    if (largest === 0) {
      warn(
        'jitter-missing',
        `no jitter in ${JITTER_WINDOW} frames: nothing sub-pixel to accumulate; offset the projection by up.jitter(i) and pass it`,
      );
    } else if (recent.every((j) => j[0] === recent[0]![0] && j[1] === recent[0]![1])) {
      warn(
        'jitter-frozen',
        `the jitter has been (${recent[0]!.join(', ')}) for ${JITTER_WINDOW} frames: advance it every frame`,
      );
    } else if (largest < 2 / Math.min(w, h)) {
      warn(
        'jitter-units',
        `the jitter is at most ${largest.toPrecision(2)}: that looks like UV or NDC units; Uplift takes render pixels (×${w} for UV, ×${w / 2} for NDC in x)`,
      );
    }
    const phases = jitterPhaseCount(w, displaySize[0]);
    const haltonIndexOf = (j: readonly [number, number]) => {
      for (let k = 1; k <= 1024; k++)
        if (
          Math.abs(halton(k, 2) - 0.5 - j[0]) < 1e-5 &&
          Math.abs(halton(k, 3) - 0.5 - j[1]) < 1e-5
        )
          return k;
      return 0;
    };
    // A Halton sequence that wraps early revisits positions: fewer distinct samples per pixel.
    const last = jitters.length - 1;
    if (last > 0) {
      const [a, b] = [haltonIndexOf(jitters[last - 1]!), haltonIndexOf(jitters[last]!)];
      if (a > 0 && b === 1 && a !== phases && a > 1) {
        warn(
          'jitter-phases',
          `the Halton jitter wraps after ${a} phases; up.jitterPhaseCount is ${phases} at this ratio`,
        );
      }
    }
  };
  return {
    frame(f) {
      index++;
      jitters.push(f.jitter);
      if (jitters.length > 1100) jitters.splice(0, 100);
      checkJitter();
      const [w, h] = sizes().renderSize;
      const [sx, sy] = f.motionScale.map(Math.abs) as [number, number];
      if (Math.abs(sx - w) < 0.5 && Math.abs(sy - h) < 0.5) {
        warn(
          'motion-units',
          `motionScale (${f.motionScale.join(', ')}) is the render size: vectors in UV need (1, 1), vectors in pixels (1/${w}, 1/${h})`,
        );
      } else if (sx > 4 || sy > 4) {
        warn(
          'motion-units',
          `motionScale (${f.motionScale.join(', ')}) scales the vectors up: Uplift takes UV; for pixels use (1/${w}, 1/${h})`,
        );
      }
      if (f.frameTimeDelta !== undefined && f.frameTimeDelta > 1) {
        warn(
          'frame-time-units',
          `frameTimeDelta ${f.frameTimeDelta} looks like milliseconds: pass seconds`,
        );
      }
      if (f.colorFormat === 'rgba8unorm' || f.colorFormat === 'bgra8unorm') {
        warn(
          'color-linear8',
          `color in ${f.colorFormat} is read as linear: if the target holds sRGB-encoded values, pass a ${f.colorFormat}-srgb view`,
        );
      }
    },
  };
}
