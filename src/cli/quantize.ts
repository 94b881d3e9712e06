/**
 * `uplift quantize <in.uplift> <out.uplift> [--bits 8]`: the weights with every `.weight` tensor
 * fake-quantized (symmetric, per tensor; biases f32). The file still holds f32 values, on the
 * integer grid, so `eval --model` measures what post-training weight quantization loses.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { fakeQuantizeWeights } from '../nn/quantize.ts';
import { loadWeights, saveWeights } from '../nn/weights.ts';

export function register(program: Command): void {
  program
    .command('quantize')
    .description('fake-quantize the weights of a .uplift file (per-tensor symmetric, biases f32)')
    .argument('<in>', 'the .uplift weights to quantize')
    .argument('<out>', 'the .uplift file to write (f32 values on the integer grid)')
    .option('--bits <n>', 'bits of the signed integer grid (2 to 16)', '8')
    .option('--force', 'overwrite an existing weights file')
    .addHelpText(
      'after',
      '\nExample:\n  uplift quantize weights/uplift-v2.uplift models/v2-int8.uplift',
    )
    .action(async (input: string, out: string, flags: { bits: string; force?: boolean }) => {
      const bits = Number(flags.bits);
      if (!/^\d+$/.test(flags.bits.trim()) || bits < 2 || bits > 16) {
        throw new InputError(`--bits must be an integer from 2 to 16, got "${flags.bits}"`);
      }
      if (existsSync(out) && !flags.force) {
        throw new InputError(`${out} exists: pass --force to overwrite it`);
      }
      const weights = await loadWeights(input);
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
