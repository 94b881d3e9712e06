/**
 * `uplift quantize <in.uplift> <out.uplift>`: post-training quantization, simulated in f32.
 *
 * - `--bits 8` alone: every `.weight` tensor rounded onto its symmetric per-tensor grid (biases
 *   f32) and stored so: f32 values on the integer grid, network unchanged.
 * - with `--activation-bits 8`: the quantized network itself (quantizeGraph: weights used rounded
 *   to --bits, the inputs of every weighted op rounded onto per-tensor grids whose scales are
 *   calibrated here on the GPU, max |x| over the first --calibration-clips clips of the data
 *   engine's training split). The f32 weights are kept; every runner (eval, upscale, train --qat
 *   --init) then computes what INT8 kernels would.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { parseSize } from '../core/quality.ts';
import {
  fakeQuantizeWeights,
  graphQuantization,
  postTrainingQuantized,
  scalesFromMaxAbs,
} from '../nn/quantize.ts';
import { loadWeights, saveWeights } from '../nn/weights.ts';
import { resolveTrainConfig } from '../train/config.ts';
import { calibrateActivations } from '../train/run-start.ts';
import { cliGpu } from './gpu-arg.ts';
import { parseInteger } from './flags.ts';
import { QUANT_BITS, isQuantBits } from '../core/graph.ts';

interface QuantizeFlags {
  bits: string;
  activationBits?: string;
  calibrationClips: string;
  size: string;
  seed: string;
  force?: boolean;
  quiet?: boolean;
}

function bitsFlag(name: string, text: string): number {
  const bits = Number(text);
  if (!/^\d+$/.test(text.trim()) || !isQuantBits(bits)) {
    throw new InputError(
      `--${name} must be an integer from ${QUANT_BITS.min} to ${QUANT_BITS.max}, got "${text}"`,
    );
  }
  return bits;
}

export function register(program: Command): void {
  program
    .command('quantize')
    .description(
      'post-training quantization of a .uplift file: weights (per-tensor symmetric, biases f32), and activations with --activation-bits',
    )
    .argument('<in>', 'the .uplift weights to quantize')
    .argument('<out>', 'the .uplift file to write')
    .option('--bits <n>', 'bits of the signed weight grid (2 to 16)', '8')
    .option(
      '--activation-bits <n>',
      'also quantize activations (the inputs of weighted ops) to this many bits, calibrated on the GPU; writes the quantized network',
    )
    .option('--calibration-clips <n>', 'training clips to calibrate activations on', '8')
    .option('--size <WxH>', 'calibration clip size (display pixels)', '256x256')
    .option(
      '--seed <n>',
      'seed of the calibration clips (the training run that uses the same seed sees the same clips)',
      '1',
    )
    .option('--force', 'overwrite an existing weights file')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nExamples:\n  uplift quantize weights/uplift-v2.uplift models/v2-w8.uplift\n' +
        '  uplift quantize weights/uplift-v2.uplift models/v2-w8a8.uplift --activation-bits 8\n' +
        '  uplift eval data/validation/* --methods neural,neural:models/v2-w8a8.uplift --report out/ptq',
    )
    .action(async (input: string, out: string, flags: QuantizeFlags) => {
      const bits = bitsFlag('bits', flags.bits);
      const activationBits =
        flags.activationBits === undefined
          ? undefined
          : bitsFlag('activation-bits', flags.activationBits);
      if (existsSync(out) && !flags.force) {
        throw new InputError(`${out} exists: pass --force to overwrite it`);
      }
      const weights = await loadWeights(input);
      if (graphQuantization(weights.graph)) {
        throw new InputError(`${input}: network "${weights.graph.name}" is quantized already`);
      }
      if (activationBits !== undefined) {
        const clips = parseInteger(flags.calibrationClips, '--calibration-clips', 1);
        const seed = parseInteger(flags.seed, '--seed', 0);
        const size = parseSize(flags.size, '--size');
        // The training data of the frames task (the data engine's training split, both modes).
        const config = resolveTrainConfig({
          seed,
          size,
          data: { ratio: weights.qualityRatio ?? [2, 1.5], clipFrames: 8, referenceSamples: 16 },
          warmup: 3,
        });
        const gpu = await cliGpu(flags.quiet);
        const maxAbs = await calibrateActivations(
          gpu.device,
          config,
          weights.graph,
          weights.parameters,
          clips,
        );
        await saveWeights(
          out,
          postTrainingQuantized(
            weights,
            {
              weightBits: bits,
              activationBits,
              activationScales: scalesFromMaxAbs(maxAbs, activationBits),
            },
            { calibration: { clips, seed, size, split: 'train' }, source: basename(input) },
          ),
        );
        console.log(
          JSON.stringify({
            weights: out,
            network: weights.graph.name,
            bits,
            activationBits,
            activationScales: Object.fromEntries(scalesFromMaxAbs(maxAbs, activationBits)),
          }),
        );
        return;
      }
      const { parameters, scales } = fakeQuantizeWeights(weights.parameters, bits);
      await saveWeights(out, {
        ...weights,
        parameters,
        metadata: {
          ...weights.metadata,
          quantization: {
            kind: 'fake (post-training, weights only)',
            bits,
            scheme: 'symmetric per-tensor, s = max|w| / (2^(bits-1) - 1); biases f32',
            source: basename(input),
            scales: Object.fromEntries(scales),
          },
        },
      });
      console.log(
        JSON.stringify({ weights: out, network: weights.graph.name, bits, tensors: scales.size }),
      );
    });
}
