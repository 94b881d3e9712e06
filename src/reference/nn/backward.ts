/**
 * CPU reference of the backward pass of every network op (forward in
 * ./ops.ts). Plain loops over planar CHW tensors (value (c, y, x) at (c·H + y)·W + x), generic
 * over Float32Array | Float64Array so gradient checks run in float64; results are Float64Array.
 *
 * Activations are fused after the bias in the forward ops, so every backward starts from the
 * pre-activation gradient dZ = dY · act'(z), which `activationBackwardCpu` computes from the op's
 * *output* alone (relu and leaky keep the sign of z). The linear backwards then take dZ.
 */
import type { Real, Tensor } from '../../core/tensor.ts';
import { quantizeWeightCpu } from './ops.ts';
import {
  LEAKY_SLOPE,
  quantMax,
  type Activation,
  isWeighted,
  type GraphDescription,
  type Parameters,
} from '../../core/graph.ts';

/** Spatial size of a planar tensor. */
export interface Plane {
  readonly height: number;
  readonly width: number;
}

/** Gradients of a linear op with weights. */
export interface LinearGrads {
  readonly dInput: Float64Array;
  readonly dWeight: Float64Array;
  readonly dBias: Float64Array;
}

/** dZ = dY · act'(z), where z is recovered from the output y (y > 0 ⇔ z > 0). */
export function activationBackwardCpu(
  activation: Activation,
  output: Real,
  dOutput: Real,
): Float64Array {
  if (output.length !== dOutput.length) {
    throw new RangeError(
      `activation backward: output ${output.length}, gradient ${dOutput.length}`,
    );
  }
  const out = new Float64Array(dOutput.length);
  for (let i = 0; i < out.length; i++) {
    const slope =
      activation === 'none' || output[i]! > 0 ? 1 : activation === 'relu' ? 0 : LEAKY_SLOPE;
    out[i] = dOutput[i]! * slope;
  }
  return out;
}

function checkLength(what: string, a: Real, want: number): void {
  if (a.length !== want) throw new RangeError(`${what} has ${a.length} values, want ${want}`);
}

/** Per-output-channel sum of dZ: the bias gradient of every op. */
function biasGrad(dZ: Real, channels: number, pixels: number): Float64Array {
  const dBias = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let p = 0; p < pixels; p++) s += dZ[c * pixels + p]!;
    dBias[c] = s;
  }
  return dBias;
}

/**
 * conv3x3 (stride 1, zero padding 1), weight [Cout][Cin][3][3]. `dZ` is [Cout][H][W].
 */
export function conv3x3BackwardCpu(
  input: Real,
  inChannels: number,
  plane: Plane,
  weight: Real,
  outChannels: number,
  dZ: Real,
): LinearGrads {
  const { height: H, width: W } = plane;
  checkLength('conv3x3 input', input, inChannels * H * W);
  checkLength('conv3x3 weight', weight, outChannels * inChannels * 9);
  checkLength('conv3x3 dZ', dZ, outChannels * H * W);
  const dInput = new Float64Array(input.length);
  const dWeight = new Float64Array(weight.length);
  for (let co = 0; co < outChannels; co++) {
    for (let ci = 0; ci < inChannels; ci++) {
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++) {
          const wi = ((co * inChannels + ci) * 3 + ky) * 3 + kx;
          const w = weight[wi]!;
          let dw = 0;
          for (let y = 0; y < H; y++) {
            const sy = y + ky - 1;
            if (sy < 0 || sy >= H) continue;
            for (let x = 0; x < W; x++) {
              const sx = x + kx - 1;
              if (sx < 0 || sx >= W) continue;
              const g = dZ[(co * H + y) * W + x]!;
              const si = (ci * H + sy) * W + sx;
              dw += g * input[si]!;
              dInput[si]! += g * w;
            }
          }
          dWeight[wi] = dw;
        }
      }
    }
  }
  return { dInput, dWeight, dBias: biasGrad(dZ, outChannels, H * W) };
}

/** conv1x1, weight [Cout][Cin]. `dZ` is [Cout][H][W]. */
export function conv1x1BackwardCpu(
  input: Real,
  inChannels: number,
  plane: Plane,
  weight: Real,
  outChannels: number,
  dZ: Real,
): LinearGrads {
  const n = plane.height * plane.width;
  checkLength('conv1x1 input', input, inChannels * n);
  checkLength('conv1x1 weight', weight, outChannels * inChannels);
  checkLength('conv1x1 dZ', dZ, outChannels * n);
  const dInput = new Float64Array(input.length);
  const dWeight = new Float64Array(weight.length);
  for (let co = 0; co < outChannels; co++) {
    for (let ci = 0; ci < inChannels; ci++) {
      const w = weight[co * inChannels + ci]!;
      let dw = 0;
      for (let p = 0; p < n; p++) {
        const g = dZ[co * n + p]!;
        dw += g * input[ci * n + p]!;
        dInput[ci * n + p]! += g * w;
      }
      dWeight[co * inChannels + ci] = dw;
    }
  }
  return { dInput, dWeight, dBias: biasGrad(dZ, outChannels, n) };
}

/**
 * down2x2 (2×2 conv, stride 2): `plane` is the *input* size (even); weight [Cout][Cin][2][2];
 * `dZ` is [Cout][H/2][W/2].
 */
export function down2x2BackwardCpu(
  input: Real,
  inChannels: number,
  plane: Plane,
  weight: Real,
  outChannels: number,
  dZ: Real,
): LinearGrads {
  const { height: H, width: W } = plane;
  const [h, w] = [H >> 1, W >> 1];
  checkLength('down2x2 input', input, inChannels * H * W);
  checkLength('down2x2 weight', weight, outChannels * inChannels * 4);
  checkLength('down2x2 dZ', dZ, outChannels * h * w);
  const dInput = new Float64Array(input.length);
  const dWeight = new Float64Array(weight.length);
  for (let co = 0; co < outChannels; co++) {
    for (let ci = 0; ci < inChannels; ci++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const wi = ((co * inChannels + ci) * 2 + i) * 2 + j;
          let dw = 0;
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const g = dZ[(co * h + y) * w + x]!;
              const si = (ci * H + 2 * y + i) * W + 2 * x + j;
              dw += g * input[si]!;
              dInput[si]! += g * weight[wi]!;
            }
          }
          dWeight[wi] = dw;
        }
      }
    }
  }
  return { dInput, dWeight, dBias: biasGrad(dZ, outChannels, h * w) };
}

/**
 * up2x2 (2×2 transposed conv, stride 2): `plane` is the *input* size; weight [Cin][Cout][2][2]
 * (out(co, 2y+i, 2x+j) += in(ci, y, x) · w[ci][co][i][j]); `dZ` is [Cout][2H][2W].
 */
export function up2x2BackwardCpu(
  input: Real,
  inChannels: number,
  plane: Plane,
  weight: Real,
  outChannels: number,
  dZ: Real,
): LinearGrads {
  const { height: H, width: W } = plane;
  const [OH, OW] = [2 * H, 2 * W];
  checkLength('up2x2 input', input, inChannels * H * W);
  checkLength('up2x2 weight', weight, inChannels * outChannels * 4);
  checkLength('up2x2 dZ', dZ, outChannels * OH * OW);
  const dInput = new Float64Array(input.length);
  const dWeight = new Float64Array(weight.length);
  for (let ci = 0; ci < inChannels; ci++) {
    for (let co = 0; co < outChannels; co++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const wi = ((ci * outChannels + co) * 2 + i) * 2 + j;
          let dw = 0;
          for (let y = 0; y < H; y++) {
            for (let x = 0; x < W; x++) {
              const g = dZ[(co * OH + 2 * y + i) * OW + 2 * x + j]!;
              const si = (ci * H + y) * W + x;
              dw += g * input[si]!;
              dInput[si]! += g * weight[wi]!;
            }
          }
          dWeight[wi] = dw;
        }
      }
    }
  }
  return { dInput, dWeight, dBias: biasGrad(dZ, outChannels, OH * OW) };
}

/** add (a + b, then the activation): both inputs receive dZ. */
export function addBackwardCpu(
  activation: Activation,
  output: Real,
  dOutput: Real,
): { dA: Float64Array; dB: Float64Array } {
  const dZ = activationBackwardCpu(activation, output, dOutput);
  return { dA: dZ, dB: Float64Array.from(dZ) };
}

/** concat along channels (then the activation): each input receives its slice of dZ. */
export function concatBackwardCpu(
  activation: Activation,
  output: Real,
  dOutput: Real,
  channels: readonly number[],
  plane: Plane,
): Float64Array[] {
  const n = plane.height * plane.width;
  checkLength('concat gradient', dOutput, channels.reduce((a, c) => a + c, 0) * n);
  const dZ = activationBackwardCpu(activation, output, dOutput);
  let offset = 0;
  return channels.map((c) => dZ.slice(offset, (offset += c * n)));
}

/**
 * fakequant's straight-through estimator (the rounding has zero derivative almost everywhere, so
 * training treats it as the identity): dX = dY where |x| ≤ qmax·scale, 0 where the grid clamps x.
 */
export function fakeQuantBackwardCpu(
  input: Real,
  dOutput: Real,
  scale: number,
  bits: number,
): Float64Array {
  checkLength('fakequant gradient', dOutput, input.length);
  const limit = quantMax(bits) * scale;
  const out = new Float64Array(input.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.abs(input[i]!) <= limit ? dOutput[i]! : 0;
  return out;
}

/** Gradients of a network: wrt every graph input and every parameter. */
export interface NetworkGrads {
  readonly inputs: Map<string, Float64Array>;
  readonly params: Map<string, Float64Array>;
}

/**
 * Backward of a whole graph: nodes in reverse order, gradients of tensors read by several nodes
 * (skip connections, the features fed to both the encoder and the final concat) summed.
 * `activations` holds every tensor of the forward (`runNetworkCpu(...).tensors`); `outputGrads` holds dLoss/d(output) per graph
 * output.
 */
export function networkBackwardCpu(
  graph: GraphDescription,
  params: Parameters<Real>,
  activations: ReadonlyMap<string, Tensor<Real>>,
  outputGrads: ReadonlyMap<string, Real>,
): NetworkGrads {
  const grads = new Map<string, Float64Array>();
  const addGrad = (name: string, g: Float64Array) => {
    const existing = grads.get(name);
    if (!existing) grads.set(name, g);
    else for (let i = 0; i < g.length; i++) existing[i]! += g[i]!;
  };
  for (const name of graph.outputs) {
    const g = outputGrads.get(name);
    if (!g) throw new RangeError(`missing gradient of network output ${name}`);
    addGrad(name, Float64Array.from(g));
  }
  const paramGrads = new Map<string, Float64Array>();
  for (const node of [...graph.nodes].reverse()) {
    const y = activations.get(node.output)!;
    const dY = grads.get(node.output) ?? new Float64Array(y.data.length);
    const act = node.activation ?? 'none';
    const x = activations.get(node.inputs[0]!)!;
    if (isWeighted(node.op)) {
      const backward = {
        conv3x3: conv3x3BackwardCpu,
        conv1x1: conv1x1BackwardCpu,
        down2x2: down2x2BackwardCpu,
        up2x2: up2x2BackwardCpu,
      }[node.op];
      const dZ = activationBackwardCpu(act, y.data, dY);
      const stored = params.get(`${node.name}.weight`);
      if (!stored) throw new RangeError(`missing parameter ${node.name}.weight`);
      // A fake-quantized weight: the forward used the rounded copy; its gradient passes straight
      // through to the stored weight.
      const weight = node.weightBits ? quantizeWeightCpu(stored, node.weightBits).values : stored;
      const g = backward(x.data, x.channels, x, weight, y.channels, dZ);
      addGrad(node.inputs[0]!, g.dInput);
      paramGrads.set(`${node.name}.weight`, g.dWeight);
      paramGrads.set(`${node.name}.bias`, g.dBias);
    } else if (node.op === 'fakequant') {
      addGrad(node.inputs[0]!, fakeQuantBackwardCpu(x.data, dY, node.scale!, node.bits!));
    } else if (node.op === 'add') {
      const { dA, dB } = addBackwardCpu(act, y.data, dY);
      addGrad(node.inputs[0]!, dA);
      addGrad(node.inputs[1]!, dB);
    } else {
      const channels = node.inputs.map((name) => activations.get(name)!.channels);
      concatBackwardCpu(act, y.data, dY, channels, y).forEach((g, i) =>
        addGrad(node.inputs[i]!, g),
      );
    }
  }
  const inputs = new Map<string, Float64Array>();
  for (const { name } of graph.inputs) {
    inputs.set(name, grads.get(name) ?? new Float64Array(activations.get(name)!.data.length));
  }
  return { inputs, params: paramGrads };
}
