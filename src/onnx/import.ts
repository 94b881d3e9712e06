/**
 * An ONNX model back to a network graph (src/core/graph.ts) and its parameters: the inverse of
 * export.ts, and the equivalents other tools write for the same ops:
 *
 * - Conv 3×3 stride 1 pads 1 → conv3x3, 1×1 → conv1x1, 2×2 stride 2 pads 0 → down2x2 (explicit
 *   pads or auto_pad), ConvTranspose 2×2 stride 2 → up2x2; group 1, dilation 1, bias optional;
 * - Add → add, Concat on the channel axis → concat; Relu / LeakyRelu (alpha 0.1) fused into the
 *   op before it when that op's output feeds nothing else;
 * - QuantizeLinear → DequantizeLinear, per-tensor int8 with zero point 0 → fakequant (8 bits);
 * - a weight given as DequantizeLinear of an int8 initializer → `weightBits: 8` (its grid must be
 *   max|w| / 127, the only one a `.uplift` stores); Constant nodes as initializers.
 *
 * Anything else is an InputError naming the node, its op type and what is supported.
 */
import { InputError } from '../core/errors.ts';
import {
  LEAKY_SLOPE,
  checkParameters,
  validateGraph,
  type Activation,
  type GraphDescription,
  type GraphNode,
  type OpKind,
} from '../core/graph.ts';
import {
  META,
  MIN_IMPORT_OPSET,
  ONNX_QUANT_BITS,
  weightFromInt8,
  type OnnxNetwork,
} from './convention.ts';
import { DataType, decodeModel, type ModelProto, type NodeProto } from './proto.ts';
import { dataTypeName, readTensor, type ConstantTensor } from './tensors.ts';
import { attributes, convForm } from './attributes.ts';

/** What import understands, for error messages. */
export const SUPPORTED_OPS =
  'Conv (3×3 stride 1 pads 1, 1×1, 2×2 stride 2), ConvTranspose (2×2 stride 2), Add, ' +
  'Concat (axis 1), Relu, LeakyRelu (alpha 0.1), QuantizeLinear → DequantizeLinear ' +
  '(per-tensor int8, zero point 0), DequantizeLinear of int8 weights, Constant';

/** A graph node being built (activation and output change when an activation is fused). */
interface Building {
  op: OpKind;
  name: string;
  inputs: string[];
  output: string;
  outChannels?: number;
  activation: Activation;
  weightBits?: number;
  scale?: number;
  bits?: number;
}

/** A constant dequantized by a DequantizeLinear: int values, scale, f32 values q · scale. */
interface Dequantized {
  readonly q: ConstantTensor;
  readonly scale: number;
  readonly values: Float32Array;
}

class Importer {
  readonly constants = new Map<string, ConstantTensor>();
  readonly dequantized = new Map<string, Dequantized>();
  /** QuantizeLinear outputs waiting for their DequantizeLinear. */
  readonly quantized = new Map<string, { name: string; input: string; scale: number }>();
  /** Channels of every graph tensor defined so far. */
  readonly channels = new Map<string, number>();
  /** Index in `nodes` of the node writing each graph tensor. */
  readonly producer = new Map<string, number>();
  readonly nodes: Building[] = [];
  readonly parameters = new Map<string, Float32Array>();
  /** Readers of each tensor: node indices, and -1 for a graph output. */
  readonly readers = new Map<string, number[]>();

  constructor(
    readonly source: string,
    readonly onnx: NodeProto[],
  ) {}

  fail(node: NodeProto, problem: string): never {
    throw new InputError(
      `${this.source}: node "${node.name || node.output?.[0] || '?'}" (${node.opType}): ${problem}`,
    );
  }

  /** A graph tensor input of `node` (not a constant), defined before it. */
  tensor(node: NodeProto, index: number): string {
    const name = node.input?.[index];
    if (!name) this.fail(node, `input ${index} is missing`);
    if (this.constants.has(name) || this.dequantized.has(name)) {
      this.fail(node, `input "${name}" is a constant; this input must be a computed tensor`);
    }
    if (!this.channels.has(name)) {
      this.fail(node, `input "${name}" is not defined before it (nodes must be sorted)`);
    }
    return name;
  }

  /** A one-element float constant > 0 (a Q/DQ scale). */
  scale(node: NodeProto, index: number): number {
    const t = this.constants.get(node.input?.[index] ?? '');
    if (!t || t.dataType !== DataType.FLOAT || t.values.length !== 1) {
      this.fail(node, 'the scale must be a one-value float initializer (per-tensor quantization)');
    }
    const s = t.values[0]!;
    if (!(s > 0) || !Number.isFinite(s)) this.fail(node, `the scale must be > 0, got ${s}`);
    return s;
  }

  /** Checks the zero point: a 0 of `type` (int8 unless given; absent only where `optional`). */
  zeroPoint(node: NodeProto, index: number, optional: boolean, type: number = DataType.INT8): void {
    const name = node.input?.[index];
    if (!name) {
      if (optional) return;
      this.fail(node, 'no zero point: QuantizeLinear then writes uint8; Uplift needs int8, zero 0');
    }
    const t = this.constants.get(name);
    if (!t || t.dataType !== type || t.values.length !== 1 || t.values[0] !== 0) {
      const what = t ? `${dataTypeName(t.dataType)} [${[...t.values].join(', ')}]` : 'computed';
      this.fail(node, `the zero point must be a ${dataTypeName(type)} 0 initializer, got ${what}`);
    }
  }

  /** Adds a graph node writing `output` with `channels` channels. */
  add(node: Omit<Building, 'activation'>, channels: number): void {
    this.producer.set(node.output, this.nodes.length);
    this.nodes.push({ ...node, activation: 'none' });
    this.channels.set(node.output, channels);
  }

  output(node: NodeProto): string {
    const name = node.output?.[0];
    if (!name || (node.output?.length ?? 0) !== 1) this.fail(node, 'must have exactly one output');
    if (this.channels.has(name)) this.fail(node, `output "${name}" is written twice`);
    return name;
  }

  nodeName(node: NodeProto): string {
    return node.name || this.output(node);
  }

  run(node: NodeProto): void {
    if (node.domain && node.domain !== 'ai.onnx') {
      this.fail(node, `domain "${node.domain}" is not supported; supported: ${SUPPORTED_OPS}`);
    }
    const handlers: Record<string, (n: NodeProto) => void> = {
      Constant: (n) => this.constant(n),
      Conv: (n) => this.conv(n, false),
      ConvTranspose: (n) => this.conv(n, true),
      Add: (n) => this.sum(n),
      Concat: (n) => this.concat(n),
      Relu: (n) => this.activation(n, 'relu'),
      LeakyRelu: (n) => this.activation(n, 'leaky'),
      QuantizeLinear: (n) => this.quantize(n),
      DequantizeLinear: (n) => this.dequantize(n),
    };
    const handler = handlers[node.opType ?? ''];
    if (!handler) this.fail(node, `op type not supported; supported: ${SUPPORTED_OPS}`);
    handler(node);
  }

  constant(node: NodeProto): void {
    const value = node.attribute?.find((a) => a.name === 'value');
    if (!value?.t || node.attribute!.length !== 1) {
      this.fail(node, 'only a Constant with a tensor "value" is supported');
    }
    const name = this.output(node);
    this.constants.set(name, { ...readTensor(value.t, `${this.source}: Constant ${name}`), name });
  }

  conv(node: NodeProto, transposed: boolean): void {
    const weightName = node.input?.[1] ?? '';
    const plain = this.constants.get(weightName);
    const dq = this.dequantized.get(weightName);
    const weight = plain ?? dq?.q;
    if (!weight || (plain && plain.dataType !== DataType.FLOAT)) {
      this.fail(node, 'the weight must be a float initializer or DequantizeLinear of an int8 one');
    }
    const input = this.tensor(node, 0);
    const form = convForm(attributes(node), weight.dims, transposed, (p) => this.fail(node, p));
    const [d0, d1] = weight.dims as [number, number];
    const [cin, cout] = transposed ? [d0, d1] : [d1, d0];
    if (cin !== this.channels.get(input)) {
      this.fail(
        node,
        `weight [${weight.dims.join(', ')}] needs ${cin} input channels, ` +
          `"${input}" has ${this.channels.get(input)}`,
      );
    }
    const name = this.nodeName(node);
    let values = plain?.values as Float32Array | undefined;
    if (dq) {
      if (dq.q.dataType !== DataType.INT8) this.fail(node, 'a quantized weight must be int8');
      values = weightFromInt8(dq.q.values, dq.scale);
      if (!values) {
        this.fail(
          node,
          `weight "${weightName}": no int8 value is ±127, so its grid is not ` +
            'max|w| / 127 (the only per-tensor weight grid a .uplift file stores)',
        );
      }
    }
    this.parameters.set(`${name}.weight`, values!);
    this.parameters.set(`${name}.bias`, this.bias(node, cout));
    this.add(
      {
        op: form,
        name,
        inputs: [input],
        output: this.output(node),
        outChannels: cout,
        ...(dq ? { weightBits: ONNX_QUANT_BITS } : {}),
      },
      cout,
    );
  }

  bias(node: NodeProto, cout: number): Float32Array {
    const name = node.input?.[2];
    if (!name) return new Float32Array(cout);
    const values = this.dequantized.get(name)?.values ?? this.constants.get(name)?.values;
    const t = this.constants.get(name);
    if (!values || (t && t.dataType !== DataType.FLOAT)) {
      this.fail(node, 'the bias must be a float initializer (or a dequantized one)');
    }
    if (values.length !== cout) this.fail(node, `bias has ${values.length} values, want ${cout}`);
    return Float32Array.from(values);
  }

  sum(node: NodeProto): void {
    const [a, b] = [this.tensor(node, 0), this.tensor(node, 1)];
    if (node.input!.length !== 2) this.fail(node, 'Add takes two inputs');
    if (this.channels.get(a) !== this.channels.get(b)) {
      this.fail(node, `inputs "${a}" and "${b}" differ in channels (no broadcasting)`);
    }
    const output = this.output(node);
    this.add(
      { op: 'add', name: this.nodeName(node), inputs: [a, b], output },
      this.channels.get(a)!,
    );
  }

  concat(node: NodeProto): void {
    const axis = attributes(node).get('axis')?.i;
    if (axis !== 1 && axis !== -3) this.fail(node, `axis ${axis} is not the channel axis (1)`);
    const inputs = (node.input ?? []).map((_, i) => this.tensor(node, i));
    if (inputs.length === 0) this.fail(node, 'no inputs');
    const channels = inputs.reduce((s, t) => s + this.channels.get(t)!, 0);
    this.add(
      { op: 'concat', name: this.nodeName(node), inputs, output: this.output(node) },
      channels,
    );
  }

  activation(node: NodeProto, activation: Activation): void {
    const input = this.tensor(node, 0);
    if (activation === 'leaky') {
      const alpha = attributes(node).get('alpha')?.f ?? 0.01;
      if (Math.fround(alpha) !== Math.fround(LEAKY_SLOPE)) {
        this.fail(node, `alpha ${alpha}: Uplift's leaky activation has slope ${LEAKY_SLOPE}`);
      }
    }
    const index = this.producer.get(input);
    const before = index === undefined ? undefined : this.nodes[index];
    if (
      !before ||
      before.op === 'fakequant' ||
      before.activation !== 'none' ||
      this.readers.get(input)?.length !== 1
    ) {
      this.fail(
        node,
        'an activation must follow a Conv, ConvTranspose, Add or Concat whose ' +
          'output nothing else reads (Uplift fuses activations into ops)',
      );
    }
    const output = this.output(node);
    before.activation = activation;
    before.output = output;
    this.producer.set(output, index!);
    this.channels.set(output, this.channels.get(input)!);
    this.producer.delete(input);
    this.channels.delete(input);
  }

  quantize(node: NodeProto): void {
    const input = this.tensor(node, 0);
    const scale = this.scale(node, 1);
    this.zeroPoint(node, 2, false);
    const output = node.output?.[0] ?? '';
    const readers = this.readers.get(output) ?? [];
    if (readers.length !== 1 || this.onnx[readers[0]!]?.opType !== 'DequantizeLinear') {
      this.fail(node, 'its output must feed exactly one DequantizeLinear (a Q/DQ pair)');
    }
    this.quantized.set(output, { name: this.nodeName(node), input, scale });
  }

  dequantize(node: NodeProto): void {
    const x = node.input?.[0] ?? '';
    const scale = this.scale(node, 1);
    const constant = this.constants.get(x);
    this.zeroPoint(node, 2, true, constant?.dataType ?? DataType.INT8);
    const output = this.output(node);
    const pending = this.quantized.get(x);
    if (pending) {
      if (Math.fround(pending.scale) !== Math.fround(scale)) {
        this.fail(node, `scale ${scale} differs from its QuantizeLinear's ${pending.scale}`);
      }
      this.quantized.delete(x);
      const { name, input } = pending;
      this.add(
        { op: 'fakequant', name, inputs: [input], output, scale, bits: ONNX_QUANT_BITS },
        this.channels.get(input)!,
      );
      return;
    }
    const q = constant;
    if (!q || q.dataType === DataType.FLOAT) {
      this.fail(
        node,
        `input "${x}" must be the int8 output of a QuantizeLinear or an int8 initializer`,
      );
    }
    const values = Float32Array.from(q.values, (v) => Math.fround(v * scale));
    this.dequantized.set(output, { q, scale, values });
  }
}

/** Graph inputs: the ONNX inputs that are not initializers, float NCHW with known channels. */
function graphInputs(source: string, model: ModelProto, constants: ReadonlySet<string>) {
  return (model.graph!.input ?? [])
    .filter((v) => !constants.has(v.name ?? ''))
    .map((v) => {
      const tensor = v.type?.tensorType;
      const dims = tensor?.shape?.dim ?? [];
      const channels = dims[1]?.dimValue;
      if (tensor?.elemType !== DataType.FLOAT || dims.length !== 4 || !(Number(channels) > 0)) {
        throw new InputError(
          `${source}: graph input "${v.name}" must be a float NCHW tensor with a known channel count`,
        );
      }
      return { name: v.name!, channels: Number(channels) };
    });
}

/** A metadata_props value parsed as JSON, or undefined when absent. */
function metadataJson(source: string, model: ModelProto, key: string): unknown {
  const entry = (model.metadataProps ?? []).find((p) => p.key === key);
  if (entry === undefined) return undefined;
  try {
    return JSON.parse(entry.value ?? '');
  } catch {
    throw new InputError(`${source}: metadata "${key}" is not valid JSON`);
  }
}

/** A built node with its keys in the order `.uplift` files write them. */
function finish(n: Building): GraphNode {
  return {
    op: n.op,
    name: n.name,
    inputs: n.inputs,
    output: n.output,
    ...(n.outChannels !== undefined ? { outChannels: n.outChannels } : {}),
    ...(n.activation !== 'none' ? { activation: n.activation } : {}),
    ...(n.weightBits !== undefined ? { weightBits: n.weightBits } : {}),
    ...(n.scale !== undefined ? { scale: n.scale, bits: n.bits! } : {}),
  };
}

function checkOpset(source: string, model: ModelProto): void {
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!opset || Number(opset.version) < MIN_IMPORT_OPSET) {
    throw new InputError(
      `${source}: default-domain opset ${opset?.version ?? 'missing'}; import needs ${MIN_IMPORT_OPSET} or newer`,
    );
  }
}

/**
 * Reads an `.onnx` file's bytes as a network (graph, parameters, and the quality ratio and
 * metadata an Uplift export stored). `source` names the file in errors. Throws InputError for a
 * file that is not ONNX, or a model with anything but the supported ops.
 */
export function importOnnx(bytes: Uint8Array, source: string): OnnxNetwork {
  const model = decodeModel(bytes, source);
  checkOpset(source, model);
  const onnxNodes = model.graph!.node ?? [];
  const im = new Importer(source, onnxNodes);
  for (const t of model.graph!.initializer ?? []) {
    im.constants.set(t.name ?? '', readTensor(t, `${source}: initializer "${t.name}"`));
  }
  const inputs = graphInputs(source, model, new Set(im.constants.keys()));
  for (const input of inputs) im.channels.set(input.name, input.channels);
  const outputs = (model.graph!.output ?? []).map((o) => o.name ?? '');
  onnxNodes.forEach((node, i) => {
    for (const name of node.input ?? []) im.readers.set(name, [...(im.readers.get(name) ?? []), i]);
  });
  for (const name of outputs) im.readers.set(name, [...(im.readers.get(name) ?? []), -1]);
  for (const node of onnxNodes) im.run(node);
  for (const name of outputs) {
    if (!im.channels.has(name)) {
      throw new InputError(`${source}: graph output "${name}" is not a computed tensor`);
    }
  }
  const historyGuard = metadataJson(source, model, META.historyGuard);
  if (historyGuard !== undefined && typeof historyGuard !== 'number') {
    throw new InputError(`${source}: metadata "${META.historyGuard}" must be a number`);
  }
  const coverageBlend = metadataJson(source, model, META.coverageBlend);
  if (coverageBlend !== undefined && typeof coverageBlend !== 'number') {
    throw new InputError(`${source}: metadata "${META.coverageBlend}" must be a number`);
  }
  const graph: GraphDescription = {
    name: model.graph!.name ?? '',
    version: Number(model.modelVersion ?? 0),
    inputs,
    outputs,
    nodes: im.nodes.map(finish),
    ...(historyGuard !== undefined ? { historyGuard } : {}),
    ...(coverageBlend !== undefined ? { coverageBlend } : {}),
  };
  try {
    validateGraph(graph);
    checkParameters(graph, im.parameters);
  } catch (e) {
    throw new InputError(`${source}: ${(e as Error).message}`);
  }
  const qualityRatio = metadataJson(source, model, META.qualityRatio);
  if (qualityRatio !== undefined && typeof qualityRatio !== 'number') {
    throw new InputError(`${source}: metadata "${META.qualityRatio}" must be a number`);
  }
  const metadata = metadataJson(source, model, META.metadata) ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InputError(`${source}: metadata "${META.metadata}" must be a JSON object`);
  }
  return {
    graph,
    parameters: im.parameters,
    ...(qualityRatio !== undefined ? { qualityRatio } : {}),
    metadata: metadata as Record<string, unknown>,
  };
}
