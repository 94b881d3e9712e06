/**
 * `uplift import-onnx <in.onnx> <out.uplift>`: an ONNX model made of the ops `export-onnx`
 * writes (or their usual equivalents) as a `.uplift` weights file (src/onnx/import.ts). Any other
 * op is an error naming the node.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { countParameters } from '../core/graph.ts';
import { readInputFile } from '../io/read-file.ts';
import { saveWeights } from '../nn/weights.ts';
import { SUPPORTED_OPS, importOnnx } from '../onnx/import.ts';

export function register(program: Command): void {
  program
    .command('import-onnx')
    .description('write an ONNX model of supported ops as a .uplift weights file')
    .argument('<onnx>', 'the .onnx model to import')
    .argument('<weights>', 'the .uplift file to write')
    .option('--force', 'overwrite an existing weights file')
    .addHelpText(
      'after',
      `\nSupported ops: ${SUPPORTED_OPS}.\n` +
        'Inputs NCHW float with a known channel count; the quality ratio and metadata an export\n' +
        'stored are restored.\n' +
        '\nExamples:\n  uplift import-onnx uplift-v2.onnx my.uplift\n' +
        '  uplift import-onnx uplift-v2-int8.onnx my-int8.uplift && uplift info my-int8.uplift',
    )
    .action(async (input: string, out: string, flags: { force?: boolean }) => {
      if (existsSync(out) && !flags.force) {
        throw new InputError(`${out} exists: pass --force to overwrite it`);
      }
      const network = importOnnx(await readInputFile(input), input);
      await saveWeights(out, network);
      console.log(
        JSON.stringify({
          weights: out,
          network: network.graph.name,
          nodes: network.graph.nodes.length,
          parameters: countParameters(network.graph),
        }),
      );
    });
}
