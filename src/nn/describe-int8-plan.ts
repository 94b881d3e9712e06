/**
 * What the INT8 runner does for one frame (`uplift info <file.uplift> --plan`): its kernels in
 * order, each with the multiply-accumulates it performs and the bytes it must read and write at
 * least (each tensor it reads once, weights included; what it writes once), and the totals.
 */
import type { Size } from '../core/quality.ts';
import { packedGroups } from '../core/int8.ts';
import type { Int8Plan } from '../core/int8-plan.ts';
import { paddedSize } from '../core/neural-frame.ts';
import { INT8_OP_TAPS, int8OpOutputShape } from '../reference/nn/int8-ops.ts';
import { int8WeightWords } from './ops/int8/common.ts';
import { conv3x3Tile } from './ops/int8/conv3x3.ts';
import { matrixGeometry, matrixWeightBytes } from './ops/int8/matrix.ts';
import { paddedLayout, paddedPitchBytes } from './ops/int8/padded.ts';
import {
  matrixSteps,
  producersInConsumers,
  quantizeInOnePass,
  quantizeLabel,
} from './int8-network.ts';

/** One kernel of the plan. */
export interface PlanKernel {
  readonly name: string;
  readonly op: string;
  /** What it reads and writes, e.g. "q(res1a) + q(down1) → q(res1)". */
  readonly dataflow: string;
  readonly macs: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export interface PlanDescription {
  /** The display size, and the network input (display padded to multiples of 8). */
  readonly displaySize: Size;
  readonly inputSize: Size;
  readonly kernels: readonly PlanKernel[];
  readonly macs: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly text: string;
}

/**
 * The plan's kernels at `displaySize`, with their work and traffic, on the dot4I8Packed kernels
 * or the `mixed` ones (the frame's default where the device has exact i8 subgroup matrices:
 * `matrixSteps` run on matrices and read their input in the padded layout its producer writes);
 * a consumer that computes its producer (`producersInConsumers`, as the runner does unless told
 * not to) is one kernel.
 */
export function describeInt8Plan(
  plan: Int8Plan,
  displaySize: Size,
  int8Kernels: 'dot4' | 'mixed' = 'dot4',
  computeProducersInConsumers = true,
): PlanDescription {
  const [width, height] = paddedSize(displaySize);
  const pixels = (divisor: number) => (width / divisor) * (height / divisor);
  /** Bytes of an int8 tensor: its packed words. */
  const int8Bytes = (name: string) => {
    const t = plan.tensors.get(name)!;
    return packedGroups(t.channels) * 4 * pixels(t.divisor);
  };
  const { inputChannels } = plan;
  const onMatrices = matrixSteps(plan, int8Kernels);
  const paddedInputs = new Set(plan.steps.filter((_, i) => onMatrices[i]).map((s) => s.input));
  const quantizeKernel = (quantizes: Int8Plan['quantizes']): PlanKernel => ({
    name: quantizeLabel(quantizes),
    op: 'quantize',
    dataflow: quantizes
      .map((q) => `${q.input} → ${q.output}${q.outChannelOffset ? ` @${q.outChannelOffset}` : ''}`)
      .join(', '),
    macs: 0,
    bytesRead: inputChannels * 4 * pixels(1),
    bytesWritten: quantizes.length * packedGroups(inputChannels) * 4 * pixels(1),
  });
  const kernels: PlanKernel[] = quantizeInOnePass(plan, int8Kernels)
    ? [quantizeKernel(plan.quantizes)]
    : plan.quantizes.map((q) => quantizeKernel([q]));
  const steps: PlanKernel[] = [];
  for (const [i, step] of plan.steps.entries()) {
    const input = plan.tensors.get(step.input)!;
    const inShape = {
      channels: input.channels,
      height: height / input.divisor,
      width: width / input.divisor,
    };
    const out = int8OpOutputShape(step.op, inShape, step.params.bias.length);
    const terms = step.op === 'up2x2' ? input.channels : input.channels * INT8_OP_TAPS[step.op];
    const outPixels = out.width * out.height;
    // The weights as the kernel reads them: dot4I8Packed's padded to whole blocks of channels,
    // the matrices' as right matrices (packMatrixWeight); the input padded for the matrices.
    const bias = 4 * step.params.bias.length;
    let weights = 4 * int8WeightWords(step.op, step.inChannels, out.channels) + bias;
    let inputBytes = int8Bytes(step.input);
    if (onMatrices[i]) {
      const g = matrixGeometry(step.op, step.inChannels, out.channels);
      weights = matrixWeightBytes(g) + bias;
      const layout = paddedLayout(inShape, paddedPitchBytes(input.channels));
      inputBytes = layout.rows * layout.rowPixels * layout.pitchWords * 4;
    }
    const written = step.realOutput
      ? 4 * out.channels * outPixels
      : packedGroups(out.channels) * 4 * outPixels;
    const residual = step.residual === undefined ? '' : ` + ${step.residual}`;
    const padded = paddedInputs.has(step.output) ? ' (padded)' : '';
    steps.push({
      name: step.node,
      op: onMatrices[i] ? `${step.op} (matrices)` : step.op,
      dataflow: `${step.input}${residual} → ${step.output}${padded}${step.outChannelOffset ? ` @${step.outChannelOffset}` : ''}`,
      macs: terms * out.channels * outPixels,
      bytesRead: inputBytes + weights + (step.residual ? int8Bytes(step.residual) : 0),
      bytesWritten: written,
    });
  }
  // A consumer computing its producer's part or, a conv3x3, all its input in its halo
  // (producersInConsumers): one kernel doing both's work, reading the producer's inputs and the
  // rest of its own, writing its output alone.
  const producers = computeProducersInConsumers
    ? producersInConsumers(plan, int8Kernels)
    : new Map<number, number>();
  const computed = new Set(producers.values());
  /** Step i's kernel, with the producers it computes (and theirs). */
  const kernelOf = (i: number): PlanKernel => {
    const step = steps[i]!;
    const p = producers.get(i);
    if (p === undefined) return step;
    const producer = kernelOf(p);
    const [c, ps] = [plan.steps[i]!, plan.steps[p]!];
    // The producer's part of the consumer's input, neither written nor read.
    const divisor = plan.tensors.get(c.input)!.divisor;
    const part = packedGroups(ps.params.bias.length) * 4 * pixels(divisor);
    // A conv3x3 computes the producer for its tiles' halos: their border pixels twice.
    const tile = conv3x3Tile(width / divisor, height / divisor);
    const halo = c.op === 'conv3x3' ? ((tile.x + 2) * (tile.y + 2)) / (tile.x * tile.y) : 1;
    return {
      name: `${producer.name} + ${step.name}`,
      op: `${producer.op} + ${step.op}`,
      // In a halo, the consumer's input is the producer's output: it reads the producer's inputs.
      dataflow:
        c.op === 'conv3x3'
          ? `${producer.dataflow.split(' → ')[0]} → ${c.output}`
          : `${ps.input} + ${step.dataflow}`,
      macs: Math.round(producer.macs * halo) + step.macs,
      bytesRead: producer.bytesRead + step.bytesRead - part,
      bytesWritten: step.bytesWritten,
    };
  };
  for (const i of steps.keys()) if (!computed.has(i)) kernels.push(kernelOf(i));
  const sum = (key: 'macs' | 'bytesRead' | 'bytesWritten') =>
    kernels.reduce((s, k) => s + k[key], 0);
  const macs = sum('macs');
  const bytesRead = sum('bytesRead');
  const bytesWritten = sum('bytesWritten');
  const mb = (b: number) => (b / 1e6).toFixed(1).padStart(8);
  const columnWidth = (key: 'name' | 'op' | 'dataflow', least: number) =>
    Math.max(least, ...kernels.map((k) => k[key].length));
  const [nameWidth, opWidth, flowWidth] = [
    columnWidth('name', 22),
    columnWidth('op', 8),
    columnWidth('dataflow', 34),
  ];
  const rows = kernels.map(
    (k) =>
      `${k.name.padEnd(nameWidth)} ${k.op.padEnd(opWidth)} ${k.dataflow.padEnd(flowWidth)} ` +
      `${(k.macs / 1e6).toFixed(0).padStart(7)} ${mb(k.bytesRead)} ${mb(k.bytesWritten)}`,
  );
  const text = [
    `INT8 plan of ${plan.name} at ${displaySize.join('x')} (network input ${width}x${height}, ` +
      `${int8Kernels === 'mixed' ? 'mixed kernels' : 'dot4I8Packed kernels'}): ` +
      `${kernels.length} kernels, ${(macs / 1e9).toFixed(2)} GMAC, ` +
      `${(bytesRead / 1e6).toFixed(0)} MB read, ${(bytesWritten / 1e6).toFixed(0)} MB written at least`,
    `${'kernel'.padEnd(nameWidth)} ${'op'.padEnd(opWidth)} ${'reads → writes'.padEnd(flowWidth)}    MMAC  MB read MB write`,
    ...rows,
  ].join('\n');
  return {
    displaySize,
    inputSize: [width, height],
    kernels,
    macs,
    bytesRead,
    bytesWritten,
    text,
  };
}
