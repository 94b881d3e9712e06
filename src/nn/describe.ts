/**
 * A readable summary of a network: per-node shapes, parameters and cost, and its quantization
 * (`uplift info <file.uplift>`).
 */
import {
  inferShapes,
  inputMultiple,
  isWeighted,
  macsPerNode,
  macsPerOutputPixel,
  parameterSpecs,
  type GraphDescription,
} from '../core/graph.ts';

/** One row of the summary. */
export interface NodeSummary {
  readonly name: string;
  readonly op: string;
  readonly activation: string;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Output resolution relative to the input: 1, 1/2, 1/4… */
  readonly scale: number;
  readonly parameters: number;
  /** Multiply-accumulates of this node per input-resolution pixel. */
  readonly macsPerPixel: number;
}

/** Network summary: totals, per-node rows and a printable text table. */
export interface NetworkDescription {
  readonly name: string;
  readonly version: number;
  readonly parameters: number;
  readonly macsPerOutputPixel: number;
  /** Multiply-accumulates of one 1920×1080 frame, in billions. */
  readonly gmacsAt1080p: number;
  readonly nodes: readonly NodeSummary[];
  readonly text: string;
}

/** Parameter count, MACs per output pixel and a per-node table of `graph`. */
export function describeNetwork(graph: GraphDescription): NetworkDescription {
  const multiple = inputMultiple(graph);
  const shapes = inferShapes(graph, multiple, multiple);
  const macs = macsPerNode(graph);
  const specs = new Map(parameterSpecs(graph).map((s) => [s.name, s.length]));
  const nodes: NodeSummary[] = graph.nodes.map((node) => {
    const input = shapes.get(node.inputs[0]!)!;
    const output = shapes.get(node.output)!;
    const inChannels = node.op === 'concat' ? output.channels : input.channels;
    const parameters = isWeighted(node.op)
      ? specs.get(`${node.name}.weight`)! + specs.get(`${node.name}.bias`)!
      : 0;
    const scale = output.width / multiple;
    return {
      name: node.name,
      op: node.op,
      activation: node.activation ?? 'none',
      inChannels,
      outChannels: output.channels,
      scale,
      parameters,
      macsPerPixel: macs.get(node.name)!,
    };
  });
  const parameters = nodes.reduce((s, n) => s + n.parameters, 0);
  const total = macsPerOutputPixel(graph);
  const fraction = (s: number) => (s >= 1 ? `${s}` : `1/${1 / s}`);
  const rows = nodes.map(
    (n) =>
      `${n.name.padEnd(11)} ${n.op.padEnd(9)} ${`${n.inChannels}->${n.outChannels}`.padEnd(7)} ` +
      `${fraction(n.scale).padEnd(4)} ${n.activation.padEnd(5)} ${String(n.parameters).padStart(7)} ` +
      `${n.macsPerPixel.toFixed(0).padStart(6)}`,
  );
  const gmacsAt1080p = (total * 1920 * 1080) / 1e9;
  const weightBits = graph.nodes.find((n) => n.weightBits !== undefined)?.weightBits;
  const fakequant = graph.nodes.filter((n) => n.op === 'fakequant');
  const quantization =
    weightBits === undefined && fakequant.length === 0
      ? []
      : [
          `quantized (simulated in f32): weights ${weightBits ? `${weightBits}-bit per tensor` : 'f32'}, ` +
            (fakequant.length > 0
              ? `${fakequant[0]!.bits}-bit activations into the weighted ops (${fakequant.length} fakequant nodes)`
              : 'activations f32'),
        ];
  const text = [
    `${graph.name} v${graph.version}: ${parameters} parameters, ${total} MACs per output pixel ` +
      `(${gmacsAt1080p.toFixed(2)} GMAC at 1920x1080)`,
    ...quantization,
    ...(graph.historyGuard
      ? [
          `history guard: the blend clamps history more than ${graph.historyGuard} box range(s) outside the neighbourhood, whatever β`,
        ]
      : []),
    ...(graph.coverageBlend
      ? [
          `coverage blend: the current frame's odds in the blend scaled by its coverage of the pixel to the power ${graph.coverageBlend}`,
        ]
      : []),
    `${'node'.padEnd(11)} ${'op'.padEnd(9)} ch      res  act    params MAC/px`,
    ...rows,
  ].join('\n');
  return {
    name: graph.name,
    version: graph.version,
    parameters,
    macsPerOutputPixel: total,
    gmacsAt1080p,
    nodes,
    text,
  };
}
