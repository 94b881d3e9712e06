/**
 * A sequence of frames to upscale or evaluate, wherever it comes from: a sequence directory on
 * disk (src/io) or a generator in memory (the analytic sequence, the data engine).
 */
import type { FrameImages, FrameParams, SequenceHeader } from '../core/frame.ts';
import type { AnalyticSequence } from '../scene/analytic.ts';

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

/** Wraps an in-memory analytic sequence. */
export function analyticSource(sequence: AnalyticSequence, name = 'analytic'): FrameSource {
  return {
    name,
    header: sequence.header,
    frameCount: sequence.frames.length,
    frameParams: (i) => sequence.frames[i]!.params,
    readFrame: async (i) => sequence.frames[i]!.images,
    frameNumber: (i) => i,
  };
}
