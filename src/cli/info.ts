/**
 * `uplift info [seq | file.uplift]`: what a sequence holds, what a weights file holds (network,
 * cost, quantization, training metadata; with --plan the INT8 runner's kernels for a frame and
 * every pass of the INT8 neural frame around them), or with no argument, what the GPU offers.
 */
import type { Command } from 'commander';
import { describeNetwork } from '../nn/describe.ts';
import { describeInt8Plan } from '../nn/describe-int8-plan.ts';
import { describeInt8Frame } from '../nn/describe-frame.ts';
import { ARCHITECTURES, architectureCost, type ArchitectureCost } from '../nn/networks.ts';
import { planInt8 } from '../core/int8-plan.ts';
import { parseQuality, parseSize, renderSizeFor, type Size } from '../core/quality.ts';
import type { Int8Plan } from '../core/int8-plan.ts';
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
  quality: string;
  network?: string;
  networks?: boolean;
  reprojectPass?: boolean;
  kernels: string;
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
      "for an INT8-ready .uplift file: the INT8 runner's kernels for one frame, with MACs and bytes, and the bytes of every pass of the neural frame around them",
    )
    .option('--display <WxH>', 'display size of --plan and --networks', '1920x1080')
    .option('--quality <mode|ratio>', 'render size of --plan (display / ratio)', 'performance')
    .option(
      '--reproject-pass',
      'with --plan: the frame with the reproject pass, as `reprojectInFeatures: false` runs it (default: the features pass reprojects)',
    )
    .option(
      '--kernels <dot4|mixed>',
      'with --plan: the INT8 kernels, dot4I8Packed (every adapter; the default) or mixed (where the device has exact i8 subgroup matrices, asked for: 3x3 layers at full resolution on tensor cores, their inputs padded)',
      'dot4',
    )
    .option(
      '--network <name>',
      `an architecture instead of a file (${Object.keys(ARCHITECTURES).join(', ')}): its nodes, or with --plan its INT8 kernels`,
    )
    .option('--networks', 'compare every architecture: parameters, MACs, INT8 kernels and bytes')
    .addHelpText(
      'after',
      '\nExamples:\n  uplift info captures/corridor\n  uplift info weights/uplift-v2-int8.uplift\n' +
        '  uplift info weights/uplift-v2-int8.uplift --plan --display 3840x2160\n' +
        '  uplift info weights/uplift-v2-int8.uplift --plan --kernels mixed\n' +
        '  uplift info --network v3a --plan\n' +
        '  uplift info --networks --display 3840x2160\n' +
        '  uplift info          # the GPU adapter and its features',
    )
    .action(async (sequence: string | undefined, opts: InfoOptions) => {
      if (opts.networks || opts.network) {
        if (sequence) throw new InputError('--network and --networks take no file or sequence');
        const display = parseSize(opts.display, '--display');
        if (opts.networks) {
          const costs = Object.keys(ARCHITECTURES).map((name) => architectureCost(name, display));
          console.log(
            opts.json ? JSON.stringify(costs.map(costSummary), null, 2) : formatCosts(costs),
          );
          return;
        }
        const graph = ARCHITECTURES[opts.network!];
        if (!graph) {
          throw new InputError(
            `--network: unknown architecture "${opts.network}"; known: ${Object.keys(ARCHITECTURES).join(', ')}`,
          );
        }
        if (opts.plan) {
          const plan = architectureCost(opts.network!, display).int8Plan;
          printPlan(plan, display, opts);
          return;
        }
        const network = describeNetwork(graph);
        console.log(opts.json ? JSON.stringify(network, null, 2) : network.text);
        return;
      }
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
          printPlan(planInt8(weights.graph, weights.parameters), display, opts);
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

/** The network's INT8 kernels, then every pass of the frame around them (JSON: under `frame`). */
function printPlan(plan: Int8Plan, display: Size, opts: InfoOptions): void {
  if (opts.kernels !== 'dot4' && opts.kernels !== 'mixed') {
    throw new InputError(`--kernels: expected dot4 or mixed, got "${opts.kernels}"`);
  }
  const int8Kernels = opts.kernels;
  const { text, ...network } = describeInt8Plan(plan, display, int8Kernels);
  let ratio: number;
  try {
    ratio = parseQuality(opts.quality);
  } catch (e) {
    throw new InputError(`--quality: ${(e as Error).message}`);
  }
  const frame = describeInt8Frame(plan, display, renderSizeFor(display, ratio), {
    int8Kernels,
    ...(opts.reprojectPass ? { reprojectInFeatures: false } : {}),
  });
  if (opts.json) {
    const { text: _, network: __, ...passes } = frame;
    console.log(JSON.stringify({ ...network, frame: passes }, null, 2));
  } else {
    console.log(`${text}

${frame.text}`);
  }
}

function costSummary(c: ArchitectureCost) {
  return {
    network: c.name,
    parameters: c.parameters,
    macsPerPixel: c.macsPerPixel,
    int8Kernels: c.plan.kernels.length,
    gmacPerFrame: c.plan.macs / 1e9,
    megabytesRead: c.plan.bytesRead / 1e6,
    megabytesWritten: c.plan.bytesWritten / 1e6,
  };
}

function formatCosts(costs: readonly ArchitectureCost[]): string {
  const [w, h] = costs[0]!.plan.displaySize;
  const rows = costs
    .map(costSummary)
    .map((c) =>
      [
        c.network.padEnd(8),
        String(c.parameters).padStart(10),
        String(c.macsPerPixel).padStart(8),
        String(c.int8Kernels).padStart(8),
        c.gmacPerFrame.toFixed(2).padStart(7),
        c.megabytesRead.toFixed(0).padStart(8),
        c.megabytesWritten.toFixed(0).padStart(9),
      ].join(' '),
    );
  return [
    `architectures at ${w}x${h}, as the INT8 runner runs them (bytes: at least, per frame)`,
    'network  parameters  MAC/px  kernels    GMAC  MB read  MB write',
    ...rows,
  ].join('\n');
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
