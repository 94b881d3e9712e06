/**
 * Does discounting the network's reprojected recurrent state where things move keep what the state
 * is worth on static content and gain what zeroing it gains on self-moving objects? The CPU
 * reference upscaler (src/reference/) plays whole sequences with the given weights four ways: the
 * state as reprojected, zeroed (the `@zero-state` ablation), multiplied by 1 − the frame's cue
 * (max of disocclusion, reactive and invalid history: feature 7), or by max(0, 1 − |motion| / 2)
 * (|motion| in display pixels a frame). The weights were trained with the state as reprojected, so
 * this asks what a fixed gate does without training. Prints the mean PSNR (linear-domain MSE, as
 * bench/int8-activations.ts) of the frames after 8 of warm-up, per sequence and gate.
 *
 *   npx tsx scripts/state-gate.ts <weights.uplift> <sequence dir>...
 * e.g. after `uplift dataset --split validation --frames 24 --out data/val`:
 *   npx tsx scripts/state-gate.ts weights/uplift-v3.uplift data/val/Fox-orbit-1019 data/val/tile-orbit-1022
 */
import type { FrameImages, FrameParams } from '../src/core/frame.ts';
import type { Image } from '../src/core/image.ts';
import type { NeuralModel } from '../src/core/neural-frame.ts';
import { openSequence } from '../src/io/sequence.ts';
import { meanPsnr, mse } from '../src/metrics/psnr.ts';
import { loadWeights } from '../src/nn/weights.ts';
import { renderPixelOf } from '../src/reference/common.ts';
import { neuralCpuResolver } from '../src/reference/nn/neural-resolver.ts';
import {
  createReferenceUpscaler,
  type CpuResolveInputs,
  type CpuResolver,
} from '../src/reference/upscaler.ts';

const GATES = ['as-is', 'zero', 'cue', 'motion'] as const;
type Gate = (typeof GATES)[number];
const WARMUP = 8;

/** How much of the state display pixel (x, y) keeps under `gate`. */
function keepOf(gate: Gate, inputs: CpuResolveInputs, x: number, y: number): number {
  if (gate === 'zero') return 0;
  const [rw, rh] = inputs.renderSize;
  const [dw, dh] = inputs.displaySize;
  const m = inputs.prepared.motion.data;
  const i = (renderPixelOf(y, rh, dh) * rw + renderPixelOf(x, rw, dw)) * 4;
  if (gate === 'cue') {
    const invalid = inputs.reprojected.history.data[(y * dw + x) * 4 + 3]! >= 0.5 ? 0 : 1;
    return 1 - Math.min(1, Math.max(m[i + 2]!, m[i + 3]!, invalid));
  }
  return Math.max(0, 1 - Math.hypot(m[i]! * dw, m[i + 1]! * dh) / 2);
}

/** The neural CPU resolver with its reprojected state multiplied by `gate`'s keep. */
function gatedResolver(model: NeuralModel, gate: Gate): CpuResolver {
  const inner = neuralCpuResolver(model);
  if (gate === 'as-is') return inner;
  return {
    historyFormat: inner.historyFormat,
    resolve(inputs) {
      const state = inputs.reprojected.state;
      const [dw, dh] = inputs.displaySize;
      const data = new Float32Array(state.data.length);
      for (let y = 0; y < dh; y++) {
        for (let x = 0; x < dw; x++) {
          const keep = keepOf(gate, inputs, x, y);
          for (let c = 0; c < 4; c++) {
            const i = (y * dw + x) * 4 + c;
            data[i] = state.data[i]! * keep;
          }
        }
      }
      const gated: Image = { ...state, data };
      return inner.resolve({ ...inputs, reprojected: { ...inputs.reprojected, state: gated } });
    },
  };
}

const [weightsFile, ...sequences] = process.argv.slice(2);
if (!weightsFile || sequences.length === 0) {
  console.error('usage: state-gate.ts <weights.uplift> <sequence dir>...');
  process.exit(2);
}
const model = await loadWeights(weightsFile);
for (const dir of sequences) {
  const source = await openSequence(dir);
  const frames: { images: FrameImages; params: FrameParams }[] = [];
  for (let i = 0; i < source.frameCount; i++) {
    frames.push({ images: await source.readFrame(i), params: source.frameParams(i) });
  }
  const row = GATES.map((gate) => {
    const up = createReferenceUpscaler({
      displaySize: source.header.displaySize,
      renderSize: source.header.renderSize,
      method: 'neural',
      resolver: gatedResolver(model, gate),
    });
    const mses: number[] = [];
    frames.forEach((f, t) => {
      const out = up.dispatch(f.images, f.params);
      if (t >= WARMUP) mses.push(mse(out, f.images.reference!));
    });
    return `${gate} ${meanPsnr(mses).toFixed(3)}`;
  });
  console.log(`${dir.replace(/^.*\//, '')}: ${row.join(' | ')}`);
}
