// Property-based fuzzing of the parsers (issue 16) with fast-check, on a short budget per parser:
// mutated valid PNG, EXR, .uplift, sequence.json, checkpoint and training config inputs either
// parse or throw InputError — never another exception, never over 2 s, never an image beyond the
// reader's limit. Long runs: scripts/fuzz.mjs (docs/FUZZING.md). A failure prints the shrunk input
// and fast-check's seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkInput, fuzzInputs, fuzzTarget, PARSERS } from './helpers/fuzz-targets.ts';

/** Inputs per parser here: each parser's run stays well under 20 s on a 2-core machine. */
const RUNS = {
  png: 20000,
  exr: 3000,
  uplift: 6000,
  sequence: 15000,
  checkpoint: 3000,
  config: 10000,
} as const;

for (const parser of PARSERS) {
  test(`fuzz ${parser}: mutated inputs parse or throw InputError`, () => {
    const target = fuzzTarget(parser);
    for (const seed of target.seeds) target.parse(seed.bytes, {}); // the seeds themselves are valid
    let refused = 0;
    fc.assert(
      fc.property(fuzzInputs(target), (input) => {
        const { finding, refusal } = checkInput(target, input);
        assert.equal(finding, undefined, JSON.stringify(finding));
        if (refusal !== undefined) refused++;
        return true;
      }),
      { numRuns: RUNS[parser], seed: 16 },
    );
    // The mutations are neither all harmless nor all fatal: both paths get exercised.
    assert.ok(refused > 0 && refused < RUNS[parser], `${refused} of ${RUNS[parser]} refused`);
  });
}
