/**
 * `uplift info [seq | file.uplift]`: what a sequence holds, what a weights file holds (network,
 * cost, quantization, training metadata; with --plan the INT8 runner's kernels for a frame), or
 * with no argument, what the GPU offers.
 */
import type { Command } from 'commander';
import { describeNetwork } from '../nn/describe.ts';
import { describeInt8Plan } from '../nn/describe-int8-plan.ts';
import { planInt8 } from '../core/int8-plan.ts';
import { parseSize } from '../core/quality.ts';
import { InputError } from '../core/errors.ts';
import { graphQuantization } from '../nn/quantize.ts';
import { loadWeights } from '../nn/weights.ts';
import { jitterPhaseCount } from '../core/jitter.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';

interface InfoOptions {
  json?: boolean;
  plan?: boolean;
  display: string;
}

export function register(program: Command): void {
  program
    .command('info')
    .description(
      'describe a sequence directory, a .uplift weights file, or (without one) the WebGPU adapter',
    )
    .argument('[sequence]', 'sequence directory (DESIGN §4), builtin:analytic, or a .uplift file')
    .option('--json', 'print JSON instead of text')
    .option(
      '--plan',
      "for an INT8-ready .uplift file: the INT8 runner's kernels for one frame, with MACs and bytes",
    )
    .option('--display <WxH>', 'display size of --plan', '1920x1080')
    .addHelpText(
      'after',
      '\nExamples:\n  uplift info captures/corridor\n  uplift info weights/uplift-v2-int8.uplift\n' +
        '  uplift info weights/uplift-v2-int8.uplift --plan --display 3840x2160\n' +
        '  uplift info          # the GPU adapter and its features',
    )
    .action(async (sequence: string | undefined, opts: InfoOptions) => {
      if (!sequence) {
        const gpu = await cliGpu(true);
        const info = { adapter: gpu.adapterName, runtime: gpu.runtime, features: gpu.features };
        console.log(opts.json ? JSON.stringify(info, null, 2) : formatGpu(info));
        return;
      }
      if (opts.plan && !sequence.endsWith('.uplift')) {
        throw new InputError('--plan describes a .uplift weights file');
      }
      if (sequence.endsWith('.uplift')) {
        const weights = await loadWeights(sequence);
        if (opts.plan) {
          const display = parseSize(opts.display, '--display');
          const plan = describeInt8Plan(planInt8(weights.graph, weights.parameters), display);
          const { text, ...rest } = plan;
          console.log(opts.json ? JSON.stringify(rest, null, 2) : text);
          return;
        }
        const network = describeNetwork(weights.graph);
        const q = graphQuantization(weights.graph);
        const info = {
          file: sequence,
          network: weights.graph.name,
          version: weights.graph.version,
          parameters: network.parameters,
          macsPerOutputPixel: network.macsPerOutputPixel,
          qualityRatio: weights.qualityRatio ?? null,
          quantization: q
            ? {
                weightBits: q.weightBits ?? null,
                activationBits: q.activationBits ?? null,
                activationScales: Object.fromEntries(q.activationScales ?? []),
              }
            : null,
          metadata: weights.metadata ?? {},
        };
        if (opts.json) console.log(JSON.stringify(info, null, 2));
        else
          console.log(`${sequence}\n${network.text}\nmetadata: ${JSON.stringify(info.metadata)}`);
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
