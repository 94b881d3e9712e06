/** What one frame hands the upscaler (DESIGN §4), in CPU form and as per-frame metadata. */
import type { Image } from './image.ts';
import type { Size } from './quality.ts';

/** Per-frame parameters: the `frames[i]` record of sequence.json and the non-texture part of dispatch. */
export interface FrameParams {
  /** Sub-pixel camera jitter in render pixels, each in [−0.5, 0.5). */
  jitter: [number, number];
  /** True on the first frame and on camera cuts: history and recurrent state are dropped. */
  reset: boolean;
  /** Multiplier applied to color before anything else. */
  exposure: number;
  /** Camera near plane distance (> 0). */
  cameraNear: number;
  /** Camera far plane distance (> near; may be Infinity for infinite far). */
  cameraFar: number;
  /** Vertical field of view in radians, in (0, π). Checked; not read by any pass yet. */
  fovY: number;
  /** Per-axis factor converting the given motion vectors to Uplift's convention (prevUV = uv + m). */
  motionScale: [number, number];
  /** Seconds since the previous frame (optional; 1/60 if unknown). Checked; not read yet. */
  frameTimeDelta?: number;
}

/** The CPU form of one frame's inputs (render resolution unless noted). */
export interface FrameImages {
  /** Linear RGB(A) color at render resolution, jittered. */
  color: Image;
  /** Device depth in [0, 1] at render resolution (1 channel). */
  depth: Image;
  /** Motion vectors at render resolution (2 channels), UV units, prevUV = uv + m·motionScale. */
  motion: Image;
  /** Optional reactive mask (1 channel, 0..1): 1 = don't trust history. */
  reactive?: Image;
  /**
   * Optional transparency-and-composition mask (1 channel, 0..1): where alpha-blended or
   * composited content covers the surface the motion vectors describe; history is trusted less
   * (TRANSPARENCY_WEIGHT of it joins the reactive mask).
   */
  transparency?: Image;
  /** Optional ground truth at display resolution, linear RGB. */
  reference?: Image;
}

/** The sequence-level description (sequence.json without the frames). */
export interface SequenceHeader {
  renderSize: Size;
  displaySize: Size;
  depthInverted: boolean;
  colorSpace: 'linear' | 'srgb';
  source?: Record<string, unknown>;
}

/** Default per-frame parameters. */
export function defaultFrameParams(): FrameParams {
  return {
    jitter: [0, 0],
    reset: false,
    exposure: 1,
    cameraNear: 0.1,
    cameraFar: 1000,
    fovY: Math.PI / 3,
    motionScale: [1, 1],
  };
}

/**
 * A sequence of frames to upscale or evaluate, wherever it comes from: a sequence directory on
 * disk (src/io) or a generator in memory (the analytic sequence, the data engine).
 */
export interface FrameSource {
  /** A short name for reports (directory name, generator name). */
  readonly name: string;
  readonly header: SequenceHeader;
  readonly frameCount: number;
  frameParams(index: number): FrameParams;
  readFrame(index: number): Promise<FrameImages>;
  /** The number in frame `index`'s file names (outputs keep the input's numbering). */
  frameNumber(index: number): number;
}
