/**
 * ONNX node attributes, and which of Uplift's weighted ops a Conv / ConvTranspose is (kernel,
 * strides, pads or auto_pad, dilations, group), with the reason when it is none of them.
 */
import type { WeightedOp } from '../core/graph.ts';
import type { AttributeProto, NodeProto } from './proto.ts';

/** A node's attributes by name. */
export function attributes(node: NodeProto): Map<string, AttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

const text = (a: AttributeProto | undefined) => (a?.s ? new TextDecoder().decode(a.s) : undefined);
const same = (values: readonly number[], v: number) => values.every((x) => x === v);

/**
 * The weighted op a Conv (or, `transposed`, ConvTranspose) with weight shape `dims` is; calls
 * `fail` with the reason otherwise.
 */
export function convForm(
  attrs: Map<string, AttributeProto>,
  dims: readonly number[],
  transposed: boolean,
  fail: (problem: string) => never,
): WeightedOp {
  if (dims.length !== 4 || dims[2] !== dims[3]) {
    fail(`weight shape [${dims.join(', ')}] is not a square 2-D kernel [·, ·, k, k]`);
  }
  const k = dims[2]!;
  const kernel = attrs.get('kernel_shape')?.ints ?? [k, k];
  if (kernel.length !== 2 || !same(kernel, k)) {
    fail(`kernel_shape [${kernel.join(', ')}] does not match the weight [${dims.join(', ')}]`);
  }
  const strides = attrs.get('strides')?.ints ?? [1, 1];
  const dilations = attrs.get('dilations')?.ints ?? [1, 1];
  const group = attrs.get('group')?.i ?? 1;
  if (group !== 1) fail(`group ${group}: only group 1 is supported`);
  if (!same(dilations, 1)) fail(`dilations [${dilations.join(', ')}]: only 1 is supported`);
  if (strides.length !== 2 || strides[0] !== strides[1]) {
    fail(`strides [${strides.join(', ')}] differ per axis`);
  }
  const s = strides[0]!;
  const autoPad = text(attrs.get('auto_pad')) ?? 'NOTSET';
  let pad: number;
  if (autoPad === 'NOTSET') {
    const pads = attrs.get('pads')?.ints ?? [0, 0, 0, 0];
    if (pads.length !== 4 || !same(pads, pads[0]!)) fail(`pads [${pads.join(', ')}] differ`);
    pad = pads[0]!;
  } else if (autoPad === 'VALID') {
    pad = 0;
  } else if (!transposed && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')) {
    // With sizes that are multiples of the stride, SAME pads k − s in total.
    if ((k - s) % 2 !== 0 || k < s) fail(`auto_pad ${autoPad} pads asymmetrically here`);
    pad = (k - s) / 2;
  } else {
    fail(`auto_pad ${autoPad} is not supported`);
  }
  if (transposed) {
    const outputPadding = attrs.get('output_padding')?.ints ?? [0, 0];
    if (!same(outputPadding, 0)) fail(`output_padding [${outputPadding.join(', ')}] must be 0`);
    if (attrs.has('output_shape')) fail('output_shape is not supported (it is 2H × 2W)');
    if (k === 2 && s === 2 && pad === 0) return 'up2x2';
    fail(`ConvTranspose ${k}×${k} stride ${s} pads ${pad}: only 2×2 stride 2 pads 0 (up2x2)`);
  }
  if (k === 3 && s === 1 && pad === 1) return 'conv3x3';
  if (k === 1 && s === 1 && pad === 0) return 'conv1x1';
  if (k === 2 && s === 2 && pad === 0) return 'down2x2';
  return fail(
    `Conv ${k}×${k} stride ${s} pads ${pad} is none of 3×3 stride 1 pads 1, 1×1, 2×2 stride 2 pads 0`,
  );
}
