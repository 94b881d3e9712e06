// Long fuzz runs of the parsers (issue 16): mutated valid inputs (test/helpers/fuzz-targets.ts,
// fast-check) must parse or throw InputError, within 2 s, within the reader's size limit.
// Usage: node scripts/fuzz.mjs --parser png|exr|uplift|sequence|checkpoint|config|all
//        [--inputs N] [--seed S] [--minutes M (per parser)] [--out findings.json]
// Prints progress lines to stderr and one JSON summary per parser to stdout: inputs, inputs per
// minute, how many parsed and how many were refused (by the most frequent messages), peak RSS,
// slowest input, findings (each with its input in base64).
import { register } from 'tsx/esm/api';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

register();
const fc = (await import('fast-check')).default;
const { checkInput, fuzzInputs, fuzzTarget, PARSERS } =
  await import('../test/helpers/fuzz-targets.ts');

const { values } = parseArgs({
  options: {
    parser: { type: 'string', default: 'all' },
    inputs: { type: 'string', default: '100000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    minutes: { type: 'string' },
    out: { type: 'string' },
  },
});
const parsers = values.parser === 'all' ? PARSERS : values.parser.split(',');
for (const p of parsers) {
  if (!PARSERS.includes(p)) {
    console.error(`--parser must be one of ${PARSERS.join(', ')} or all, got ${p}`);
    process.exit(2);
  }
}
const inputs = Number(values.inputs);
const seed = Number(values.seed);

/** The refusal message without the file name and numbers: groups alike refusals. */
function refusalKind(message) {
  return message
    .replace(/^[^:]*: /, '')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, 'N')
    .slice(0, 80);
}

const summaries = [];
for (const parser of parsers) {
  const target = fuzzTarget(parser);
  const findings = [];
  const refusals = new Map();
  let done = 0;
  let parsed = 0;
  let slowest = 0;
  const start = Date.now();
  let lastReport = start;
  // fast-check draws the inputs (reproducible from --seed); every input is checked, findings are
  // collected rather than stopping the run.
  fc.check(
    fc.property(fuzzInputs(target), (input) => {
      const { finding, refusal, ms } = checkInput(target, input);
      slowest = Math.max(slowest, ms);
      done++;
      if (finding) findings.push(finding);
      else if (refusal === undefined) parsed++;
      else {
        const kind = refusalKind(refusal);
        refusals.set(kind, (refusals.get(kind) ?? 0) + 1);
      }
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        const perMinute = Math.round(done / ((lastReport - start) / 60_000));
        console.error(`${parser}: ${done} inputs, ${perMinute}/min, ${findings.length} findings`);
      }
      return true;
    }),
    {
      numRuns: inputs,
      seed,
      // --minutes: stop drawing inputs then (fast-check's time limit; not a failure).
      ...(values.minutes ? { interruptAfterTimeLimit: Number(values.minutes) * 60_000 } : {}),
    },
  );
  const seconds = (Date.now() - start) / 1000;
  const summary = {
    parser,
    seed,
    inputs: done,
    seconds: Math.round(seconds),
    inputsPerMinute: Math.round(done / (seconds / 60)),
    parsed,
    refused: done - parsed - findings.length,
    topRefusals: [...refusals].sort((a, b) => b[1] - a[1]).slice(0, 8),
    slowestMs: Math.round(slowest),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    findings: findings.length,
    examples: findings.slice(0, 20),
  };
  summaries.push(summary);
  console.log(JSON.stringify(summary));
}
if (values.out) writeFileSync(values.out, `${JSON.stringify(summaries, null, 2)}\n`);
process.exit(summaries.some((s) => s.findings > 0) ? 1 : 0);
