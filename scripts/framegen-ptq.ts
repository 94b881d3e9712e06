/**
 * Post-training quantization of a frame-generation model, to judge an INT8 network's quality
 * before building its runtime: the activation scales (max |x| of every weighted op's input) are
 * calibrated on the CPU reference's features of the given sequences (their reference frames as
 * the displayed frames, every pair without a cut, t = 1/4, 1/2, 3/4), and the graph is written
 * quantized (quantizeGraph: 8-bit weights and activations), which every f32 runner, the frame
 * generator included, computes as INT8 kernels would. Calibrate on training-split clips only.
 *
 *   npx tsx scripts/framegen-ptq.ts weights/framegen-v1.uplift out/framegen-w8a8.uplift seq/a seq/b
 *   uplift eval fg/96x64/*-30 --higher-rate fg/96x64/*-60 --methods heuristic,neural,neural:out/framegen-w8a8.uplift --report out/ptq
 */
import { openSequence } from '../src/io/sequence.ts';
import { loadWeights, saveWeights } from '../src/nn/weights.ts';
import { calibrateActivationScales, postTrainingQuantized } from '../src/nn/quantize.ts';
import { inputMultiple } from '../src/core/graph.ts';
import { framegenPaddedSize } from '../src/core/framegen-neural.ts';
import type { Size } from '../src/core/quality.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { dilateMotionCpu, resolveMotionCpu, splatCpu } from '../src/reference/frame-generation.ts';
import { framegenFeaturesCpu } from '../src/reference/frame-generation-neural.ts';

const [input, output, ...sequences] = process.argv.slice(2);
if (!input || !output || sequences.length === 0) {
  console.error('usage: framegen-ptq.ts <in.uplift> <out.uplift> <sequence>...');
  process.exit(1);
}
const weights = await loadWeights(input);
const features: Tensor[] = [];
for (const dir of sequences) {
  const source = await openSequence(dir);
  let previous = (await source.readFrame(0)).reference;
  for (let k = 1; k < source.frameCount; k++) {
    const frame = await source.readFrame(k);
    const params = source.frameParams(k);
    if (!previous || !frame.reference) throw new Error(`${dir}: needs reference frames`);
    if (!params.reset) {
      const padded: Size = framegenPaddedSize(
        [frame.reference.width, frame.reference.height],
        inputMultiple(weights.graph),
      );
      for (const t of [0.25, 0.5, 0.75]) {
        const p = { ...params, depthInverted: source.header.depthInverted, t };
        const dilated = dilateMotionCpu(frame.motion, frame.depth, p);
        const field = resolveMotionCpu(
          splatCpu(dilated.motion, dilated.depth, p),
          dilated.motion,
          dilated.depth,
          p,
        );
        features.push(
          framegenFeaturesCpu(previous, frame.reference, field, frame.reactive, t, padded),
        );
      }
    }
    previous = frame.reference;
  }
}
const activationScales = calibrateActivationScales(weights.graph, weights.parameters, features);
await saveWeights(
  output,
  postTrainingQuantized(
    weights,
    { weightBits: 8, activationBits: 8, activationScales },
    {
      calibration: { sequences: sequences.length, pairs: features.length / 3 },
      source: input.split('/').pop()!,
    },
  ),
);
console.log(
  JSON.stringify({ output, inputs: features.length, scales: Object.fromEntries(activationScales) }),
);
