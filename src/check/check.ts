/**
 * `uplift check` without the CLI: reads a capture, estimates its conventions, lists findings with
 * the settings that fix them, and verifies the fix by checking the capture again with it applied.
 */
import type { FrameSource } from '../core/frame.ts';
import { analyzeFrames, type Analysis, type AnalyzeOptions } from './analyze.ts';
import { collectFindings, combinedFix, isClean, type Finding } from './findings.ts';
import { applyFix, loadCheckFrames, type CheckFix, type CheckFrames } from './frames.ts';

export interface CheckOptions extends AnalyzeOptions {
  /** Frame pairs read (spread over the sequence). Default 6. */
  maxPairs?: number;
}

export interface Verification {
  /** The fix applied. */
  readonly fix: CheckFix;
  readonly findings: Finding[];
  /** Every finding the fix addressed is gone, and nothing new of warning level or above came. */
  readonly resolved: boolean;
  readonly analysis: Analysis;
}

export interface CheckResult {
  readonly analysis: Analysis;
  readonly findings: Finding[];
  /** No errors or warnings. */
  readonly clean: boolean;
  /** The settings that fix what settings can fix (empty when none). */
  readonly fix: CheckFix;
  /** The check re-run with `fix` applied (absent when there is nothing to fix). */
  readonly verification?: Verification;
}

/** Checks frames already loaded (the tests break them in memory). */
export function checkFrames(frames: CheckFrames, options: CheckOptions = {}): CheckResult {
  const analysis = analyzeFrames(frames, options);
  const findings = collectFindings(analysis);
  const fix = combinedFix(findings);
  const result = { analysis, findings, clean: isClean(findings), fix };
  if (Object.keys(fix).length === 0) return result;
  // The regions search has no setting to fix; the re-run leaves it out (it is the slow part).
  const fixed = analyzeFrames(applyFix(frames, fix), { ...options, skipMismatch: true });
  const after = collectFindings(fixed);
  const addressed = new Set(findings.filter((f) => f.fix).map((f) => f.id));
  const before = new Set(findings.filter((f) => f.severity !== 'info').map((f) => f.id));
  const resolved = after.every(
    (f) => !addressed.has(f.id) && (f.severity === 'info' || before.has(f.id)),
  );
  return { ...result, verification: { fix, findings: after, resolved, analysis: fixed } };
}

/** Checks a sequence (a directory opened by src/io, or any FrameSource). */
export async function checkSequence(
  source: FrameSource,
  options: CheckOptions = {},
): Promise<CheckResult> {
  return checkFrames(await loadCheckFrames(source, options.maxPairs ?? 6), options);
}
