/**
 * `uplift check <seq>`: diagnoses a capture's inputs before the upscaler gets blamed: motion
 * vectors (unit, sign, scale per axis, direction, regions without vectors), jitter (presence,
 * sign, units, pattern), depth (orientation, range, 8-bit) and color (NaN/Inf, range, 8-bit
 * grids, exposure). Prints findings with their confidence and the settings that fix them, checked
 * by running the check again with the fix applied; --report writes pictures, HTML and JSON.
 */
import type { Command } from 'commander';
import { checkSequence, type CheckResult } from '../check/check.ts';
import { checkJsonReplacer, fixJson } from '../check/frames.ts';
import { writeCheckReport } from '../check/report.ts';
import { parseInteger } from './flags.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { openSequenceArg } from './sequence-arg.ts';

interface CheckOptions {
  report?: string;
  pairs: string;
  json?: boolean;
  strict?: boolean;
}

function printText(result: CheckResult): void {
  const a = result.analysis;
  const lines = [
    `${a.name}: ${a.header.renderSize.join('x')} -> ${a.header.displaySize.join('x')}, ${a.params.length} frames, pairs checked: ${a.pairs.map((p) => p.frame).join(', ') || 'none'}`,
  ];
  for (const f of result.findings)
    lines.push(
      `  ${f.severity.padEnd(7)} ${f.id} (confidence ${f.confidence.toFixed(2)}): ${f.message}`,
    );
  if (result.findings.length === 0) lines.push('  no findings');
  const v = result.verification;
  if (v) {
    lines.push(`fix: ${fixJson(v.fix)} (the scales multiply the current values)`);
    lines.push(`checked again with the fix: ${v.resolved ? 'resolved' : 'not fully resolved'}`);
    for (const f of v.findings) lines.push(`  ${f.severity.padEnd(7)} ${f.id}: ${f.message}`);
  }
  lines.push(result.clean ? 'clean: no errors or warnings' : 'not clean');
  console.log(lines.join('\n'));
}

export function register(program: Command): void {
  program
    .command('check')
    .description(
      "diagnose a capture's inputs: motion vectors, jitter, depth and color conventions, with the settings that fix them",
    )
    .argument('<sequence>', 'sequence directory (DESIGN §4) or builtin:analytic')
    .option('--report <dir>', 'write report.html, report.json and the pictures here')
    .option('--pairs <n>', 'frame pairs to read, spread over the sequence', '6')
    .option('--json', 'print the findings, fix and verification as JSON')
    .option('--strict', 'exit with status 2 when there is an error or a warning')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  uplift check captures/corridor\n' +
        '  uplift check captures/corridor --report out/corridor-check   # then open report.html\n' +
        '  uplift check captures/corridor --pairs 12 --json > check.json\n' +
        '  uplift render --scene city --no-jitter --depth-bits 8 -o out/city-engine && uplift check out/city-engine\n\n' +
        'Works without a reference. A fix such as {"motionScale":[-1,-1]} multiplies the sequence\'s\n' +
        'motionScale (per frame); jitterScale multiplies the jitter you pass; depthInverted and colorSpace\n' +
        'replace the header values. docs/CHECK.md explains each finding and picture.',
    )
    .action(async (sequence: string, opts: CheckOptions) => {
      const pairs = parseInteger(opts.pairs, '--pairs', 1);
      if (opts.report) {
        prepareOutputDirectory(opts.report, {
          inputs: [sequence],
          overwrite: false,
          flag: '--report',
          frames: false,
        });
      }
      const source = await openSequenceArg(sequence);
      const result = await checkSequence(source, { maxPairs: pairs });
      if (opts.json) {
        const { analysis, verification, ...rest } = result;
        console.log(
          JSON.stringify(
            {
              sequence: analysis.name,
              ...rest,
              verification: verification && { ...verification, analysis: undefined },
            },
            checkJsonReplacer,
            1,
          ),
        );
      } else printText(result);
      if (opts.report) {
        writeCheckReport(opts.report, result, {
          command: `uplift check ${process.argv.slice(3).join(' ')}`,
        });
        if (!opts.json) console.log(`report: ${opts.report}/report.html`);
      }
      if (opts.strict && !result.clean) process.exitCode = 2;
    });
}
