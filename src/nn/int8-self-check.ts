/**
 * Does this device compute INT8 exactly? Runs random ops of every weighted kind, in network v2's
 * shapes and in shapes that leave partial tiles, through the chosen kernels and compares them
 * with the CPU reference (src/reference/nn/int8-ops.ts) bit for bit. Integer kernels either
 * agree or are broken (a driver's matrix unit, a compiler bug): a handful of small ops tells.
 * The benchmarks run it on the GPU machine before timing the subgroup-matrix kernels.
 */
import type { Activation, WeightedOp } from '../core/graph.ts';
import { unpackInt8, type Int8OpParams, type Int8Tensor } from '../core/int8.ts';
import { mulberry32 } from '../core/random.ts';
import { readBuffer } from '../gpu/resources.ts';
import { INT8_OP_TAPS, int8OpCpu, int8OpOutputShape } from '../reference/nn/int8-ops.ts';
import { defaultInt8Kernels, type Int8Kernels } from './int8-network.ts';
import { uploadInt8Op } from './ops/int8/common.ts';
import { encodeInt8Op } from './ops/int8/encode.ts';
import { uploadMatrixWeights } from './ops/int8/matrix.ts';
import { prepareInt8Pad } from './ops/int8/pad.ts';
import { createPaddedInt8Tensor } from './ops/int8/padded.ts';
import { createGpuInt8Tensor, uploadInt8Tensor } from './tensor.ts';

interface CheckCase {
  readonly op: WeightedOp;
  readonly cin: number;
  readonly cout: number;
  readonly height: number;
  readonly width: number;
  readonly activation: Activation;
  /** Multiplier of a fused residual. */
  readonly residual?: number;
}

/**
 * Network v2's layer shapes, then odd ones: partial tiles, padding channels, 64 channels, v3a's
 * 48 channels and its 9-channel up2x2 head.
 */
const CASES: readonly CheckCase[] = [
  { op: 'down2x2', cin: 12, cout: 16, height: 16, width: 36, activation: 'relu' },
  { op: 'conv3x3', cin: 16, cout: 16, height: 9, width: 35, activation: 'relu' },
  { op: 'conv3x3', cin: 16, cout: 16, height: 8, width: 32, activation: 'none', residual: 20 },
  { op: 'down2x2', cin: 16, cout: 32, height: 8, width: 34, activation: 'relu' },
  { op: 'conv3x3', cin: 32, cout: 32, height: 6, width: 19, activation: 'relu' },
  { op: 'conv3x3', cin: 64, cout: 64, height: 5, width: 17, activation: 'none', residual: 11 },
  { op: 'up2x2', cin: 64, cout: 32, height: 3, width: 9, activation: 'relu', residual: 7 },
  { op: 'up2x2', cin: 16, cout: 8, height: 4, width: 18, activation: 'relu' },
  { op: 'conv1x1', cin: 20, cout: 24, height: 7, width: 37, activation: 'relu' },
  { op: 'conv3x3', cin: 24, cout: 9, height: 7, width: 33, activation: 'none' },
  { op: 'conv3x3', cin: 5, cout: 3, height: 5, width: 6, activation: 'leaky' },
  { op: 'conv3x3', cin: 48, cout: 48, height: 6, width: 21, activation: 'none', residual: 9 },
  { op: 'up2x2', cin: 16, cout: 9, height: 5, width: 37, activation: 'none' },
];

/** One case whose GPU output differs from the CPU reference. */
export interface Int8Mismatch {
  readonly case: string;
  /** A WebGPU error the case raised (its output is then garbage). */
  readonly error?: string;
  /** Differing values, of `values`. */
  readonly differing: number;
  readonly values: number;
}

/**
 * Compares `kernels` with the CPU reference on every case; resolves to the mismatches. The mixed
 * kernels are checked as both of theirs: every case on dot4I8Packed, then on the matrices.
 */
export async function checkInt8Kernels(
  device: GPUDevice,
  kernels: Int8Kernels,
): Promise<{ readonly cases: number; readonly mismatches: readonly Int8Mismatch[] }> {
  if (kernels === 'mixed' || kernels === 'emulated-mixed') {
    const dot4 = await checkInt8Kernels(device, 'dot4');
    const matrix = await checkInt8Kernels(
      device,
      kernels === 'mixed' ? 'subgroup-matrix' : 'emulated-matrix',
    );
    return {
      cases: dot4.cases + matrix.cases,
      mismatches: [
        ...dot4.mismatches,
        ...matrix.mismatches.map((m) => ({ ...m, case: `${m.case} (matrix)` })),
      ],
    };
  }
  const random = mulberry32(1234);
  const int8 = (length: number) =>
    Int8Array.from({ length }, () => Math.round((random() * 2 - 1) * 127));
  const mismatches: Int8Mismatch[] = [];
  for (const c of CASES) {
    const label = `${c.op} ${c.cin}→${c.cout} ${c.width}x${c.height}`;
    const input: Int8Tensor = {
      channels: c.cin,
      height: c.height,
      width: c.width,
      data: int8(c.cin * c.height * c.width),
    };
    const params: Int8OpParams = {
      weight: int8(c.cout * c.cin * INT8_OP_TAPS[c.op]),
      bias: Int32Array.from({ length: c.cout }, () => Math.round((random() * 2 - 1) * 16000)),
      multiplier: Math.fround(1 / (150 * c.cin * INT8_OP_TAPS[c.op])),
      activation: c.activation,
      ...(c.residual
        ? { residualMultiplier: c.residual, residualActivation: 'relu' as const }
        : {}),
    };
    const outShape = int8OpOutputShape(c.op, input, c.cout);
    const residual: Int8Tensor | undefined = c.residual
      ? { ...outShape, data: int8(c.cout * outShape.height * outShape.width) }
      : undefined;
    const upload = (t: Int8Tensor) => uploadInt8Tensor(device, t, `int8 check ${label}`);
    const gpuInput = upload(input);
    const gpuResidual = residual && upload(residual);
    const output = createGpuInt8Tensor(device, outShape, `int8 check ${label} output`);
    const weights = uploadInt8Op(device, c.op, params, c.cin);
    const matrix =
      kernels === 'dot4'
        ? undefined
        : uploadMatrixWeights(
            device,
            weights,
            kernels === 'subgroup-matrix' ? 'subgroup-matrix' : 'emulated',
          );
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    // The matrix kernels read a padded input (the pad pass writes it); output and residual stay
    // in the standard layout, which their epilogue writes and reads too.
    const padded = matrix && createPaddedInt8Tensor(device, input, `int8 check ${label} padded`);
    const pad = padded && prepareInt8Pad(device, gpuInput, padded);
    pad?.encode(pass);
    encodeInt8Op(
      device,
      pass,
      weights,
      padded ?? gpuInput,
      { output, ...(gpuResidual ? { residual: gpuResidual } : {}) },
      matrix,
    );
    pass.end();
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    const words = new Uint32Array((await readBuffer(device, output.buffer)).buffer);
    const got = unpackInt8(words, outShape.channels, outShape.height, outShape.width);
    const want = int8OpCpu(c.op, input, params, residual).data;
    let differing = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differing++;
    if (differing > 0 || error) {
      mismatches.push({
        case: label,
        differing,
        values: want.length,
        ...(error ? { error: error.message } : {}),
      });
    }
    pad?.destroy();
    for (const b of [
      padded?.buffer,
      gpuInput.buffer,
      gpuResidual?.buffer,
      output.buffer,
      weights.weightBuffer,
      weights.biasBuffer,
      matrix?.buffer,
    ]) {
      b?.destroy();
    }
  }
  return { cases: CASES.length, mismatches };
}

const exactDevices = new WeakMap<GPUDevice, Promise<boolean>>();

/**
 * Whether `device` runs the portable INT8 kernels (`defaultInt8Kernels`, dot4I8Packed) exactly:
 * `checkInt8Kernels` once per device (a few ms on a GPU, about a second on a software adapter),
 * then remembered. (The frame runs on these kernels unless told; subgroup matrices, asked for,
 * are the caller's to check with `checkInt8Kernels`.)
 */
export function int8RunsExactly(device: GPUDevice): Promise<boolean> {
  let known = exactDevices.get(device);
  if (!known) {
    known = checkInt8Kernels(device, defaultInt8Kernels()).then(
      (r) => r.mismatches.length === 0,
      () => false,
    );
    exactDevices.set(device, known);
  }
  return known;
}
