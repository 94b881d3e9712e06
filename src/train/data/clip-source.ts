/**
 * What the clip sampler's sources make, and what they share: a training clip (its frames' GPU
 * images and parameters, where it came from), the sampler's checked settings, and the random
 * streams that make every clip a pure function of (sampler seed, clip index).
 */
import type { FrameParams, SequenceHeader } from '../../core/frame.ts';
import type { Size } from '../../core/quality.ts';
import { mulberry32 } from '../../core/random.ts';
import type { EngineInputs } from '../../core/engine-inputs.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import type { MotionError } from './motion-error.ts';
import type { ViewWindow } from '../../scene/camera.ts';

/** The GPU images of one clip frame (vec4 per pixel; DESIGN §4 layouts in the first channels). */
export interface ClipFrameImages {
  color: GpuImage;
  depth: GpuImage;
  motion: GpuImage;
  /** Zero where the source has no reactive mask. */
  reactive: GpuImage;
  reference: GpuImage;
}

export interface TrainingFrame {
  params: FrameParams;
  gpu: ClipFrameImages;
}

/** Where a clip came from (for logs and tests). */
export interface ClipOrigin {
  source: 'scenes' | 'sequences' | 'analytic';
  /** Split entry name (with the drawn layout seed), sequence directory, or `analytic`. */
  name: string;
  /** Scene and camera path (scene clips). */
  scene?: string;
  path?: string;
  /** Scene / analytic seed (absent for sequence directories). */
  seed?: number;
  ratio: number;
  /** Index of the clip's first frame in its sequence. */
  startFrame: number;
  /** Crop position (sequence directories; zero otherwise). */
  renderOffset: [number, number];
  displayOffset: [number, number];
  /** The engine-like degradations the clip got (absent when none: engine-augment.ts). */
  engineInputs?: ClipEngineInputs;
  /** The clip's exposure change (absent when none: exposure-changes.ts). */
  exposureChange?: ExposureChange;
  /** True when the scene got HDR highlights (src/scene/procedural/highlights.ts). */
  highlights?: boolean;
  /** The part of a larger display the scene clip shows (absent when all: zoom-windows.ts). */
  window?: ViewWindow;
}

/** One clip's exposure change (exposure-changes.ts). */
export interface ExposureChange {
  /** `step`: from → to at frame `at`; `ramp`: log-linear from → to over `length` frames from `at`. */
  readonly kind: 'step' | 'ramp';
  readonly from: number;
  readonly to: number;
  readonly at: number;
  readonly length: number;
}

/** What one clip gets of the engine-like degradations. */
export interface ClipEngineInputs extends EngineInputs {
  readonly motionError: MotionError | null;
  /** Reversed Z (near = 1, far = 0): the clip's header says so. */
  readonly depthInverted: boolean;
  /** An infinite far plane: the frames' cameraFar is Infinity. */
  readonly infiniteFar: boolean;
}

export interface TrainingClip {
  /** Render and display size of the clip (the crop's, for sequence directories). */
  header: SequenceHeader;
  frames: TrainingFrame[];
  origin: ClipOrigin;
  /** Frees the clip's GPU buffers. */
  destroy(): void;
}

/** A clip as a source makes it; the sampler sets `reset` on frame 0 and adds `destroy`. */
export type ClipContent = Omit<TrainingClip, 'destroy'>;

/** The sampler's options after its checks, as the sources read them. */
export interface ClipSettings {
  readonly seed: number;
  readonly clipLength: number;
  readonly displaySize: Size;
  /** Ground-truth samples per display pixel (scenes, analytic). */
  readonly samples: number;
  /** Display / render ratios to draw from (scenes, analytic). */
  readonly ratios: readonly number[];
  /** Probability per group of scene clips (one renderer) of HDR highlights in the scene. */
  readonly highlights: number;
}

/** Which source a clip comes from. */
export const STREAM_SOURCE = 1;
/** What a group of scene clips sharing a renderer shows (entry, ratio, layout seed). */
export const STREAM_GROUP = 2;
/** The rest of one clip's choices (first frame, crop, analytic seed and ratio). */
export const STREAM_CLIP = 3;
/** Which engine-like degradations a clip gets (engine-augment.ts). */
export const STREAM_ENGINE = 4;
/** A clip's exposure change (exposure-changes.ts). */
export const STREAM_EXPOSURE = 5;
/** Whether a group of scene clips sharing a renderer gets HDR highlights (scene-clips.ts). */
export const STREAM_HIGHLIGHTS = 6;
/** Whether a group of scene clips is drawn from one scene's entries (scene-clips.ts, sceneShares). */
export const STREAM_SCENE_SHARE = 7;
/** A scene clip's view window (zoom-windows.ts). Stream 8 is echo.ts's. */
export const STREAM_ZOOM = 9;

/** A generator for a (seed, stream, index) triple: independent streams per decision. */
export function randomFor(seed: number, stream: number, index: number): () => number {
  let h = Math.imul(seed ^ 0x3c6ef372, 0x9e3779b1);
  h = Math.imul(h ^ (stream + 0x7f4a7c15), 0x85ebca6b);
  h = Math.imul(h ^ (index + 0x165667b1), 0xc2b2ae35);
  return mulberry32(h ^ (h >>> 15));
}
