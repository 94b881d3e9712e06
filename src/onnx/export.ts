/**
 * A network graph (src/core/graph.ts) as an ONNX model, opset 13, NCHW with a symbolic batch,
 * height and width:
 *
 * - conv3x3 / conv1x1 / down2x2 → Conv (3×3 pads 1, 1×1, 2×2 stride 2); up2x2 → ConvTranspose
 *   2×2 stride 2 (weight [Cin][Cout][2][2], the same layout); add → Add; concat → Concat axis 1;
 *   a fused activation → Relu or LeakyRelu (alpha LEAKY_SLOPE) after the op;
 * - fakequant (8 bits) → QuantizeLinear → DequantizeLinear, int8 with zero point 0 and the node's
 *   scale (as f32);
 * - a weight with `weightBits: 8` → an int8 initializer and a DequantizeLinear (convention.ts);
 *   biases stay f32.
 *
 * ONNX names: a node keeps its name and writes its graph tensor; the tensors and nodes export adds
 * (an op's output before its activation, a Q/DQ pair's int8 tensor, the weight's DequantizeLinear)
 * are named after it with a suffix, made unique. The quality ratio and metadata of the `.uplift`
 * file travel in metadata_props; graph.version is model_version.
 */
import { InputError } from '../core/errors.ts';
import {
  LEAKY_SLOPE,
  inferShapes,
  inputMultiple,
  isWeighted,
  parameterSpecs,
  checkParameters,
  type GraphDescription,
  type GraphNode,
} from '../core/graph.ts';
import {
  IR_VERSION,
  META,
  ONNX_QUANT_BITS,
  OPSET_VERSION,
  int8Weight,
  type OnnxNetwork,
} from './convention.ts';
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts';
import { floatTensor, int8Tensor } from './tensors.ts';

/** Conv attributes of each weighted op: kernel, stride, padding. */
const CONV_FORM = {
  conv3x3: { kernel: 3, stride: 1, pad: 1 },
  conv1x1: { kernel: 1, stride: 1, pad: 0 },
  down2x2: { kernel: 2, stride: 2, pad: 0 },
  up2x2: { kernel: 2, stride: 2, pad: 0 },
} as const;

const ints = (name: string, values: number[]): AttributeProto => ({
  name,
  type: AttributeType.INTS,
  ints: values,
});

/** Names not yet used in the model (graph tensors, parameters, node names all reserved). */
class Names {
  private readonly used = new Set<string>();
  constructor(graph: GraphDescription) {
    for (const input of graph.inputs) this.used.add(input.name);
    for (const node of graph.nodes) {
      this.used.add(node.name);
      this.used.add(node.output);
    }
    for (const spec of parameterSpecs(graph)) this.used.add(spec.name);
  }
  fresh(base: string): string {
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}~${k}`;
    this.used.add(name);
    return name;
  }
}

function checkBits(node: GraphNode, bits: number | undefined, what: string): void {
  if (bits !== undefined && bits !== ONNX_QUANT_BITS) {
    throw new InputError(
      `node "${node.name}": ${what} of ${bits} bits has no exact ONNX int8 Q/DQ form (only ${ONNX_QUANT_BITS}-bit quantization exports)`,
    );
  }
}

/** State of one export: the node list, initializers and fresh names. */
interface Builder {
  readonly net: OnnxNetwork;
  readonly names: Names;
  readonly nodes: NodeProto[];
  readonly initializers: TensorProto[];
  /** The shared scalar initializer: the int8 zero point of every Q/DQ pair. */
  readonly zeroPoint: string;
}

/** The node's op; its activation as a second node when it has one. */
function emitWithActivation(b: Builder, node: GraphNode, op: NodeProto): void {
  const activation = node.activation ?? 'none';
  if (activation === 'none') {
    b.nodes.push({ ...op, output: [node.output] });
    return;
  }
  const linear = b.names.fresh(`${node.output}.linear`);
  b.nodes.push({ ...op, output: [linear] });
  b.nodes.push(
    activation === 'relu'
      ? { name: b.names.fresh(`${node.name}.relu`), opType: 'Relu', input: [linear] }
      : {
          name: b.names.fresh(`${node.name}.leaky`),
          opType: 'LeakyRelu',
          input: [linear],
          attribute: [{ name: 'alpha', type: AttributeType.FLOAT, f: LEAKY_SLOPE }],
        },
  );
  b.nodes[b.nodes.length - 1]!.output = [node.output];
}

/** The weight input of a weighted node: an f32 initializer, or int8 + DequantizeLinear. */
function weightInput(b: Builder, node: GraphNode, shape: readonly number[]): string {
  const name = `${node.name}.weight`;
  const values = b.net.parameters.get(name)!;
  if (node.weightBits === undefined) {
    b.initializers.push(floatTensor(name, shape, values));
    return name;
  }
  checkBits(node, node.weightBits, 'a weight grid');
  const { q, scale } = int8Weight(values);
  const qName = b.names.fresh(`${name}.int8`);
  const scaleName = b.names.fresh(`${name}.scale`);
  b.initializers.push(int8Tensor(qName, shape, q), floatTensor(scaleName, [], [scale]));
  b.nodes.push({
    name: b.names.fresh(`${name}.dequantize`),
    opType: 'DequantizeLinear',
    input: [qName, scaleName, b.zeroPoint],
    output: [name],
  });
  return name;
}

function emitNode(b: Builder, node: GraphNode, shape: readonly number[] | undefined): void {
  if (isWeighted(node.op)) {
    const form = CONV_FORM[node.op];
    const weight = weightInput(b, node, shape!);
    const bias = `${node.name}.bias`;
    b.initializers.push(floatTensor(bias, [node.outChannels!], b.net.parameters.get(bias)!));
    const { kernel: k, stride: s, pad: p } = form;
    emitWithActivation(b, node, {
      name: node.name,
      opType: node.op === 'up2x2' ? 'ConvTranspose' : 'Conv',
      input: [node.inputs[0]!, weight, bias],
      attribute: [
        ints('kernel_shape', [k, k]),
        ints('strides', [s, s]),
        ints('pads', [p, p, p, p]),
        ints('dilations', [1, 1]),
        { name: 'group', type: AttributeType.INT, i: 1 },
      ],
    });
  } else if (node.op === 'add') {
    emitWithActivation(b, node, { name: node.name, opType: 'Add', input: [...node.inputs] });
  } else if (node.op === 'concat') {
    emitWithActivation(b, node, {
      name: node.name,
      opType: 'Concat',
      input: [...node.inputs],
      attribute: [{ name: 'axis', type: AttributeType.INT, i: 1 }],
    });
  } else {
    checkBits(node, node.bits, 'a fakequant grid');
    const scale = b.names.fresh(`${node.name}.scale`);
    b.initializers.push(floatTensor(scale, [], [node.scale!]));
    const int8 = b.names.fresh(`${node.output}.int8`);
    b.nodes.push(
      {
        name: node.name,
        opType: 'QuantizeLinear',
        input: [node.inputs[0]!, scale, b.zeroPoint],
        output: [int8],
      },
      {
        name: b.names.fresh(`${node.name}.dequantize`),
        opType: 'DequantizeLinear',
        input: [int8, scale, b.zeroPoint],
        output: [node.output],
      },
    );
  }
}

/** A float NCHW value: channels known, batch symbolic, height and width symbolic at level 0. */
function valueInfo(name: string, channels: number, level: number): ValueInfoProto {
  const spatial =
    level === 0
      ? [{ dimParam: 'height' }, { dimParam: 'width' }]
      : [{ dimParam: `height/${2 ** level}` }, { dimParam: `width/${2 ** level}` }];
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: [{ dimParam: 'batch' }, { dimValue: channels }, ...spatial] },
      },
    },
  };
}

/** The network as `.onnx` bytes. Throws InputError for what ONNX int8 cannot express. */
export function exportOnnx(net: OnnxNetwork): Uint8Array {
  const { graph } = net;
  checkParameters(graph, net.parameters);
  // Channels and resolution level of every tensor, from the shapes at the smallest valid size.
  const m = inputMultiple(graph);
  const shapes = inferShapes(graph, m, m);
  const level = (name: string) => Math.log2(m / shapes.get(name)!.height);
  const specs = new Map(parameterSpecs(graph).map((s) => [s.name, s.shape]));
  const names = new Names(graph);
  const b: Builder = { net, names, nodes: [], initializers: [], zeroPoint: names.fresh('zero') };
  const usesInt8 = graph.nodes.some((n) => n.op === 'fakequant' || n.weightBits !== undefined);
  if (usesInt8) b.initializers.push(int8Tensor(b.zeroPoint, [], [0]));
  for (const node of graph.nodes) emitNode(b, node, specs.get(`${node.name}.weight`));
  const metadataProps = [];
  if (net.qualityRatio !== undefined) {
    metadataProps.push({ key: META.qualityRatio, value: JSON.stringify(net.qualityRatio) });
  }
  metadataProps.push({ key: META.metadata, value: JSON.stringify(net.metadata ?? {}) });
  if (graph.historyGuard !== undefined) {
    metadataProps.push({ key: META.historyGuard, value: JSON.stringify(graph.historyGuard) });
  }
  if (graph.coverageBlend !== undefined) {
    metadataProps.push({ key: META.coverageBlend, value: JSON.stringify(graph.coverageBlend) });
  }
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'uplift',
    modelVersion: graph.version,
    docString: `Uplift network "${graph.name}" v${graph.version} (exported by uplift export-onnx)`,
    graph: {
      name: graph.name,
      node: b.nodes,
      initializer: b.initializers,
      input: graph.inputs.map((i) => valueInfo(i.name, i.channels, 0)),
      output: graph.outputs.map((o) => valueInfo(o, shapes.get(o)!.channels, level(o))),
    },
    metadataProps,
  });
}
