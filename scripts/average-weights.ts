/**
 * Averages the f32 weights of networks of one architecture, parameter by parameter
 * (src/nn/average-weights.ts), e.g. a fine-tuned run and the run it started from:
 *
 *   npx tsx scripts/average-weights.ts <out.uplift> <a.uplift> <b.uplift> [more.uplift ...]
 *
 * Quantize the average afterwards (`uplift quantize <out> <out-int8> --activation-bits 8`), as a
 * trained run's weights are.
 */
import { averageWeights } from '../src/nn/average-weights.ts';
import { loadWeights, saveWeights } from '../src/nn/weights.ts';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length < 2 || out === '--help') {
  console.error(
    'usage: npx tsx scripts/average-weights.ts <out.uplift> <a.uplift> <b.uplift> [more ...]',
  );
  process.exit(out === '--help' ? 0 : 2);
}
if (inputs.includes(out)) {
  console.error(`average-weights: the output ${out} is one of the inputs; write it elsewhere`);
  process.exit(2);
}
const networks = await Promise.all(inputs.map((path) => loadWeights(path)));
await saveWeights(out, averageWeights(networks, inputs));
console.log(`wrote ${out}: the mean of ${inputs.length} networks (${networks[0]!.graph.name})`);
