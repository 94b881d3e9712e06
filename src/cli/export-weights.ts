/**
 * `uplift export-weights <checkpoint> <out.uplift>`: the weights of a training checkpoint (e.g.
 * the run's best.ckpt) as a `.uplift` model file for `upscale`/`eval --model`. The checkpoint
 * holds the complete weights file; it is verified (decoded) before it is written. A run with a
 * weight average (`adam.averageDecay`) validated the average: that is what is exported, unless
 * `--raw` asks for the optimizer's current weights.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { decodeWeights } from '../nn/weights.ts';
import { loadCheckpoint, writeFileAtomic } from '../train/checkpoint.ts';

export function register(program: Command): void {
  program
    .command('export-weights')
    .description('write the .uplift weights of a training checkpoint (e.g. <out>/best.ckpt)')
    .argument('<checkpoint>', 'a checkpoint written by uplift train (.ckpt)')
    .argument('<weights>', 'the .uplift file to write')
    .option('--force', 'overwrite an existing weights file')
    .option('--raw', "a run with a weight average: export the optimizer's weights, not the average")
    .addHelpText('after', '\nExample:\n  uplift export-weights out/v1/best.ckpt models/v1.uplift')
    .action(
      async (checkpointPath: string, out: string, flags: { force?: boolean; raw?: boolean }) => {
        if (existsSync(out) && !flags.force) {
          throw new InputError(`${out} exists: pass --force to overwrite it`);
        }
        const checkpoint = await loadCheckpoint(checkpointPath);
        const average = flags.raw ? undefined : checkpoint.averageWeights;
        const bytes = average ?? checkpoint.weights;
        const weights = decodeWeights(bytes, { name: `${checkpointPath} (weights)` });
        await writeFileAtomic(out, bytes);
        console.log(
          JSON.stringify(
            {
              weights: out,
              step: checkpoint.step,
              averaged: average !== undefined,
              network: weights.graph.name,
              ...(weights.qualityRatio !== undefined ? { qualityRatio: weights.qualityRatio } : {}),
            },
            null,
            2,
          ),
        );
      },
    );
}
