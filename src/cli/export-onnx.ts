/**
 * `uplift export-onnx <file.uplift> <out.onnx>`: the network of a weights file as an ONNX model
 * (opset 13). A quantized network (fakequant nodes, 8-bit weights) becomes QDQ: int8
 * QuantizeLinear / DequantizeLinear pairs and int8 weight initializers (src/onnx/export.ts).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { readInputFile } from '../io/read-file.ts';
import { decodeWeights } from '../nn/weights.ts';
import { OPSET_VERSION } from '../onnx/convention.ts';
import { exportOnnx } from '../onnx/export.ts';
import { writeFileAtomic } from '../train/checkpoint.ts';

export function register(program: Command): void {
  program
    .command('export-onnx')
    .description(
      `write the network of a .uplift weights file as an ONNX model (opset ${OPSET_VERSION}; quantized networks as int8 QDQ)`,
    )
    .argument('<weights>', 'the .uplift file to export')
    .argument('<onnx>', 'the .onnx file to write')
    .option('--force', 'overwrite an existing .onnx file')
    .addHelpText(
      'after',
      '\nInput: NCHW float "features" (batch, 12 channels, height, width; height and width multiples\n' +
        'of 8 for network v2); output: "raw" at the same size. Quality ratio and training metadata\n' +
        'travel in metadata_props, so `uplift import-onnx` restores the .uplift file.\n' +
        '\nExamples:\n  uplift export-onnx weights/uplift-v2.uplift uplift-v2.onnx\n' +
        '  uplift export-onnx weights/uplift-v2-int8.uplift uplift-v2-int8.onnx   # QDQ',
    )
    .action(async (input: string, out: string, flags: { force?: boolean }) => {
      if (existsSync(out) && !flags.force) {
        throw new InputError(`${out} exists: pass --force to overwrite it`);
      }
      const weights = decodeWeights(await readInputFile(input), { name: input });
      const bytes = exportOnnx(weights);
      await writeFileAtomic(out, bytes);
      const quantized = weights.graph.nodes.some(
        (n) => n.op === 'fakequant' || n.weightBits !== undefined,
      );
      console.log(
        JSON.stringify({
          onnx: out,
          network: weights.graph.name,
          opset: OPSET_VERSION,
          quantized,
          bytes: bytes.length,
        }),
      );
    });
}
