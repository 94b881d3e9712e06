/**
 * The GPU dispatches that run a network graph, one per node, or for inference with concats and
 * adds fused into the weighted ops that read them.
 */
import {
  isWeighted,
  type Activation,
  type GraphDescription,
  type GraphNode,
} from '../core/graph.ts';

/** One GPU dispatch of a network: a graph node, possibly with a concat and an add fused in. */
export interface Step {
  /** The names of the nodes it runs, joined with '+' (timer labels). */
  readonly label: string;
  /** The node whose op and parameters it runs. */
  readonly node: GraphNode;
  /** Tensors read: the node's inputs, or for a weighted op the two parts of a fused concat. */
  readonly inputs: readonly string[];
  /** A fused add's other operand, added after the node's activation. */
  readonly residual?: string;
  readonly residualActivation?: Activation;
  /** Tensor written (a fused add's output). */
  readonly output: string;
}

/**
 * The dispatches that run `graph`. With `fuse` (inference), a concat of two tensors without
 * activation read only by weighted ops is not run (they read its parts), and an add whose operand
 * is read only there and made by a weighted op is folded into that op (it adds the other operand,
 * which must exist by then). Without, one step per node.
 */
export function executionSteps(graph: GraphDescription, fuse: boolean): Step[] {
  const plain = (node: GraphNode): Step => ({
    label: node.name,
    node,
    inputs: node.inputs,
    output: node.output,
  });
  if (!fuse) return graph.nodes.map(plain);
  const outputs = new Set(graph.outputs);
  const readers = (name: string) => graph.nodes.flatMap((n) => n.inputs.filter((i) => i === name));
  const producer = new Map(graph.nodes.map((n, i) => [n.output, i]));
  const concatParts = new Map<string, readonly string[]>();
  for (const node of graph.nodes) {
    if (node.op !== 'concat' || node.inputs.length !== 2 || outputs.has(node.output)) continue;
    if ((node.activation ?? 'none') !== 'none') continue;
    const users = graph.nodes.filter((n) => n.inputs.includes(node.output));
    if (users.every((n) => isWeighted(n.op))) concatParts.set(node.output, node.inputs);
  }
  // Weighted node index → the add folded into it and the add's other operand.
  const folded = new Map<number, { add: GraphNode; other: string }>();
  for (const add of graph.nodes) {
    if (add.op !== 'add') continue;
    for (const [operand, other] of [add.inputs, [...add.inputs].reverse()] as const) {
      const at = producer.get(operand!);
      if (at === undefined || folded.has(at) || !isWeighted(graph.nodes[at]!.op)) continue;
      if (outputs.has(operand!) || readers(operand!).length !== 1) continue;
      if ((producer.get(other!) ?? -1) >= at || concatParts.has(other!)) continue;
      folded.set(at, { add, other: other! });
      break;
    }
  }
  const foldedAdds = new Set([...folded.values()].map((f) => f.add));
  const steps: Step[] = [];
  graph.nodes.forEach((node, i) => {
    if (concatParts.has(node.output) || foldedAdds.has(node)) return;
    const step = plain(node);
    const parts = isWeighted(node.op) ? concatParts.get(node.inputs[0]!) : undefined;
    const fold = folded.get(i);
    steps.push({
      ...step,
      ...(parts ? { inputs: parts } : {}),
      ...(fold
        ? {
            label: `${node.name}+${fold.add.name}`,
            residual: fold.other,
            residualActivation: fold.add.activation ?? 'none',
            output: fold.add.output,
          }
        : {}),
    });
  });
  return steps;
}
