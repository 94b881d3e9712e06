/** `uplift info [seq]`: what a sequence holds, or with no argument, what the GPU offers. */
import type { Command } from 'commander';
import { jitterPhaseCount } from '../core/jitter.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';

export function register(program: Command): void {
  program
    .command('info')
    .description('describe a sequence directory, or (without one) the WebGPU adapter')
    .argument('[sequence]', 'sequence directory (DESIGN §4) or builtin:analytic')
    .option('--json', 'print JSON instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  uplift info captures/corridor\n  uplift info          # the GPU adapter and its features',
    )
    .action(async (sequence: string | undefined, opts: { json?: boolean }) => {
      if (!sequence) {
        const gpu = await cliGpu(true);
        const info = { adapter: gpu.adapterName, runtime: gpu.runtime, features: gpu.features };
        console.log(opts.json ? JSON.stringify(info, null, 2) : formatGpu(info));
        return;
      }
      const source = await openSequenceArg(sequence);
      const first = await source.readFrame(0);
      const { header } = source;
      let resets = 0;
      for (let i = 0; i < source.frameCount; i++) if (source.frameParams(i).reset) resets++;
      const info = {
        sequence: source.name,
        renderSize: header.renderSize,
        displaySize: header.displaySize,
        ratio: header.displaySize[0] / header.renderSize[0],
        jitterPhaseCount: jitterPhaseCount(header.renderSize[0], header.displaySize[0]),
        frames: source.frameCount,
        firstFrameNumber: source.frameNumber(0),
        resets,
        colorSpace: header.colorSpace,
        depthInverted: header.depthInverted,
        hasReactive: first.reactive !== undefined,
        hasReference: first.reference !== undefined,
        source: header.source ?? null,
      };
      console.log(opts.json ? JSON.stringify(info, null, 2) : formatSequence(info));
    });
}

function formatGpu(info: { adapter: string; runtime: string; features: object }): string {
  const features = Object.entries(info.features)
    .map(([k, v]) => `  ${k}: ${v ? 'yes' : 'no'}`)
    .join('\n');
  return `adapter: ${info.adapter} (${info.runtime})\nfeatures:\n${features}`;
}

function formatSequence(info: Record<string, unknown>): string {
  return Object.entries(info)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}
