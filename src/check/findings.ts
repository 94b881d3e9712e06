/**
 * Turns the check's measurements (src/check/analyze.ts) into findings: what is wrong, how sure the
 * check is, and the setting that fixes it. The thresholds are here, in one place, with why.
 */
import type { Analysis } from './analyze.ts';
import { ties } from './camera.ts';
import { IMPLAUSIBLE_NEAR } from './depth.ts';
import type { CheckFix } from './frames.ts';
import { snapFactor } from './motion.ts';
import { MIN_REGION_SHARE } from './regions.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly area: 'motion' | 'jitter' | 'depth' | 'color';
  /** Stable name, e.g. 'motion-scale', 'jitter-sign', 'depth-orientation'. */
  readonly id: string;
  readonly severity: Severity;
  readonly message: string;
  /** 0..1: how clear the evidence is (1 = unmistakable). */
  readonly confidence: number;
  /** The settings that fix it, where settings can. */
  readonly fix?: CheckFix;
}

/** The warp must improve on no motion by this share before the vectors can be judged. */
const MIN_EVIDENCE = 0.1;
/**
 * A fix must lower the warp error by this share to be suggested: 10 % for the conventions engines
 * get wrong (a unit, a sign, ×0.5, ×2), 20 % for any other factor. On aliasing-heavy content (the
 * analytic sequence, 6 pairs) an unnamed ×0.61 / ×1.38 won by 3.5 %.
 */
const MIN_GAIN = { named: 0.1, other: 0.2 };
/** Forward vectors: frame t + 1 must fit at most this share of frame t − 1's error. */
const FORWARD_RATIO = 0.85;

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const round2 = (v: number) => Math.round(v * 100) / 100;
const fmt = (v: number) => String(round2(v));
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/** How the motion fit's factor reads, for the message. */
function describeScale(unitName: string, k: readonly [number, number]): string {
  const parts: string[] = [];
  if (unitName !== 'UV') parts.push(`the vectors are in ${unitName}, not UV`);
  if (k[0] === -1 && k[1] === -1) parts.push('they point the wrong way (current − previous)');
  else if (k[0] < 0 !== k[1] < 0) parts.push(`the ${k[0] < 0 ? 'x' : 'y'} axis is flipped`);
  const size = [Math.abs(k[0]), Math.abs(k[1])];
  if (size.some((v) => v !== 1))
    parts.push(
      `they are ${size.map((v) => `×${fmt(1 / v)}`).join(' / ')} the image motion (x / y)`,
    );
  return parts.join('; ');
}

function motionFindings(a: Analysis): { findings: Finding[]; trusted: boolean } {
  const m = a.motion;
  if (!m) {
    return {
      findings: [
        {
          area: 'motion',
          id: 'motion-unchecked',
          severity: 'info',
          message: 'no two consecutive frames without a reset: the vectors cannot be checked',
          confidence: 1,
        },
      ],
      trusted: false,
    };
  }
  const { fit } = m;
  if (m.forward !== undefined && m.forward < FORWARD_RATIO * m.backward) {
    const evidence = (fit.residualZero - m.forward) / Math.max(1e-9, fit.residualZero);
    if (evidence >= MIN_EVIDENCE) {
      const message =
        'the vectors point to the next frame (forward): frame t + 1 matches frame t with them ' +
        `(error ${m.forward.toFixed(4)}) better than frame t − 1 does (${m.backward.toFixed(4)}). ` +
        'Uplift needs previous − current of each surface: compute them with the previous ' +
        "frame's matrices (motionScale −1 only approximates it while the motion is steady)";
      const confidence = round2(clamp01((1 - m.forward / m.backward) / 0.3));
      const finding: Finding = {
        area: 'motion',
        id: 'motion-forward',
        severity: 'error',
        message,
        confidence,
      };
      return { findings: [finding], trusted: false };
    }
  }
  const evidence = (fit.residualZero - fit.residualBest) / Math.max(1e-9, fit.residualZero);
  if (evidence < MIN_EVIDENCE) {
    return {
      findings: [
        {
          area: 'motion',
          id: 'motion-unobservable',
          severity: 'info',
          message:
            `too little image motion to check the vectors (median ${fmt(m.medianPixels)} render px; ` +
            `warping with them changes the error by ${pct(evidence)})`,
          confidence: 1,
        },
      ],
      trusted: false,
    };
  }
  const confidence = round2(clamp01(evidence / 0.25));
  const findings: Finding[] = [];
  const k = [snapFactor(fit.k[0]), snapFactor(fit.k[1])] as [number, number];
  const scale: [number, number] = [fit.unit[0] * k[0], fit.unit[1] * k[1]];
  const gain = (fit.residualGiven - fit.residualBest) / Math.max(1e-9, fit.residualGiven);
  const wrong = fit.unitName !== 'UV' || k[0] !== 1 || k[1] !== 1;
  const named = k.every((v) => [1, -1, 0.5, -0.5, 2, -2].includes(v));
  if (wrong && gain > (named ? MIN_GAIN.named : MIN_GAIN.other)) {
    findings.push({
      area: 'motion',
      id: 'motion-scale',
      severity: 'error',
      message:
        `${describeScale(fit.unitName, k)}: multiply motionScale by (${scale.map((v) => v.toPrecision(4)).join(', ')}) ` +
        `(warp error ${fit.residualGiven.toFixed(4)} as given, ${fit.residualBest.toFixed(4)} with it)`,
      confidence,
      fix: { motionScale: scale },
    });
  }
  // Regions are judged against the vectors as fitted; with a scale to fix, fix that first.
  const mm = findings.length === 0 ? m.mismatch : undefined;
  if (mm && mm.regions.length > 0) {
    const boxes = mm.regions
      .slice(0, 3)
      .map((r) => `${r.width}×${r.height} at (${r.x}, ${r.y})`)
      .join(', ');
    findings.push({
      area: 'motion',
      id: 'motion-mismatch',
      severity: 'warning',
      message:
        `in frame ${mm.frame} the vectors disagree with the image over ${pct(mm.share)} of it (${boxes}, ` +
        'render pixels): an object without vectors (particles, animated or skinned meshes) or with ' +
        'stale ones; give it velocity, or mark it in the reactive mask',
      confidence: round2(clamp01(mm.share / (2 * MIN_REGION_SHARE))),
    });
  }
  if (mm && mm.regions.length === 0 && mm.masked >= MIN_REGION_SHARE) {
    findings.push({
      area: 'motion',
      id: 'motion-mismatch-masked',
      severity: 'info',
      message:
        `the vectors disagree with the image over ${pct(mm.masked)} of a frame, all of it under the reactive or ` +
        'transparency mask: history is trusted less there, as it should be for content without vectors',
      confidence: 1,
    });
  }
  return { findings, trusted: true };
}

function jitterFindings(a: Analysis, motionTrusted: boolean): Finding[] {
  const { pattern, alignment } = a.jitter;
  const findings: Finding[] = [];
  const [w, h] = a.header.renderSize;
  if (pattern.none) {
    const rms = alignment ? Math.max(...alignment.measuredRms) : 0;
    if (motionTrusted && rms > 0.2) {
      findings.push({
        area: 'jitter',
        id: 'jitter-unreported',
        severity: 'error',
        message: `the frames are jittered (${fmt(rms)} render px RMS between frames) but sequence.json stores (0, 0): pass the jitter you apply`,
        confidence: round2(clamp01(rms / 0.4)),
      });
    } else {
      findings.push({
        area: 'jitter',
        id: 'jitter-missing',
        severity: 'warning',
        message:
          'no jitter: every frame samples the same positions, so there is no sub-pixel detail to ' +
          'accumulate (expect bilinear-like quality); offset the projection by up.jitter(i)',
        confidence: 1,
      });
    }
    return findings;
  }
  const fit = a.motion?.fit;
  if (motionTrusted && fit && alignment) {
    const flips: [number, number] = [1, 1];
    for (const axis of [0, 1] as const) {
      const f = alignment.factor[axis];
      if (f === undefined) continue;
      const size = axis === 0 ? w : h;
      if (Math.abs(f) > 3) {
        findings.push({
          area: 'jitter',
          id: 'jitter-units',
          severity: 'error',
          message: `${'xy'[axis]} jitter moves the content ${fmt(f)}× its stored value: store it in render pixels (×${fmt(size)} for UV, ×${fmt(size / 2)} for NDC)`,
          confidence: 0.5,
          fix: { jitterScale: axis === 0 ? [f, 1] : [1, f] },
        });
      } else if (fit.jitter[axis] === -1 && f < 0) flips[axis] = -1;
      else if (fit.jitter[axis] === 0 && Math.abs(f) < 0.3) {
        findings.push({
          area: 'jitter',
          id: 'jitter-not-applied',
          severity: 'error',
          message: `the stored ${'xy'[axis]} jitter is not in the frames (measured ${fmt(f)}× it): apply it to the projection`,
          confidence: 0.5,
        });
      }
    }
    if (flips[0] === -1 || flips[1] === -1) {
      const f = alignment.factor;
      findings.push({
        area: 'jitter',
        id: 'jitter-sign',
        severity: 'error',
        message:
          `the content is jittered the other way from the stored jitter (${flips[0] === -1 ? 'x' : ''}${flips[1] === -1 ? 'y' : ''}; ` +
          `measured ${f.map((v) => (v === undefined ? '–' : fmt(v))).join(', ')}× it): negate the jitter you pass ` +
          '(or the offset you apply to the projection)',
        confidence: round2(clamp01(Math.min(...f.map((v) => Math.abs(v ?? 1))))),
        fix: { jitterScale: flips },
      });
    }
  }
  if (pattern.kind === 'other') {
    findings.push({
      area: 'jitter',
      id: 'jitter-pattern',
      severity: 'info',
      message: `the jitter is not Halton(2,3): ${pattern.distinct} distinct offsets cover ${pct(pattern.coverage)} of a 4×4 grid over the pixel`,
      confidence: 1,
    });
  } else if (
    pattern.phaseCount !== undefined &&
    pattern.phaseCount !== pattern.expectedPhaseCount
  ) {
    findings.push({
      area: 'jitter',
      id: 'jitter-phases',
      severity: 'info',
      message: `Halton(2,3) with ${pattern.phaseCount} phases; FSR 2 and up.jitterPhaseCount use ${pattern.expectedPhaseCount} at this ratio`,
      confidence: 1,
    });
  }
  return findings;
}

function depthFindings(a: Analysis): Finding[] {
  const { stats, vote } = a.depth;
  const findings: Finding[] = [];
  if (stats.nonFinite > 0 || stats.outOfRange > 0) {
    findings.push({
      area: 'depth',
      id: 'depth-range',
      severity: 'error',
      message:
        `depth holds ${stats.nonFinite} non-finite values and ${stats.outOfRange} outside [0, 1] ` +
        `(range ${fmt(stats.min)}…${fmt(stats.max)}): Uplift reads device depth in [0, 1] (z/w of the projection), not view distance`,
      confidence: 1,
    });
    return findings;
  }
  const headerOk = stats.nearShare < IMPLAUSIBLE_NEAR;
  const flippedOk = stats.nearShareFlipped < IMPLAUSIBLE_NEAR;
  // The disocclusion vote counts only where the cue fires somewhere.
  const voteFlipped = vote && vote.liftFlipped > 1.2 * vote.lift && vote.shareFlipped > 0.002;
  const voteHeader = vote && vote.lift > 1.2 * vote.liftFlipped && vote.share > 0.002;
  const inverted = a.header.depthInverted;
  if (!headerOk && flippedOk) {
    findings.push({
      area: 'depth',
      id: 'depth-orientation',
      severity: 'error',
      message:
        `depth is ${inverted ? 'near = 0' : 'reversed (near = 1)'} but sequence.json says depthInverted: ${inverted}: ` +
        `${pct(stats.nearShare)} of pixels would lie within twice the near plane` +
        (voteFlipped ? '; disocclusions agree' : voteHeader ? '; disocclusions disagree' : '') +
        `. Set depthInverted: ${!inverted}`,
      confidence: voteFlipped ? 1 : voteHeader ? 0.3 : 0.7,
      fix: { depthInverted: !inverted },
    });
  } else if (!headerOk && !flippedOk) {
    findings.push({
      area: 'depth',
      id: 'depth-linear',
      severity: 'warning',
      message:
        `under either orientation ${pct(Math.min(stats.nearShare, stats.nearShareFlipped))} of pixels would lie within twice the near plane: ` +
        'the depth looks linear (view distance / far) or cameraNear is too large; Uplift reads device depth (z/w)',
      confidence: 0.5,
    });
  } else if (headerOk && voteFlipped) {
    findings.push({
      area: 'depth',
      id: 'depth-disocclusion',
      severity: 'info',
      message:
        'the depth range fits the stated orientation, but disocclusions fit the opposite one better',
      confidence: 0.3,
    });
  }
  if (stats.eightBit) {
    findings.push({
      area: 'depth',
      id: 'depth-8bit',
      severity: 'info',
      message: `8-bit depth: ${stats.codes} distinct values; motion dilation and the disocclusion cue see only these levels (too few to check near, far and fovY against the motion)`,
      confidence: 1,
    });
  }
  return findings;
}

/** Residual (render px) the best lens must leave for depth and vectors to count as consistent. */
const CAMERA_UNEXPLAINED = { pixels: 0.25, share: 0.3 };
/** The stated lens is wrong when its residual exceeds the suggested one's by this factor. */
const CAMERA_WRONG = 2;

/** A lens factor as a person reads it. */
function factorText(v: number): string {
  return Number.isFinite(v) ? `×${v.toPrecision(3)}` : '→ ∞';
}

function cameraFindings(a: Analysis): Finding[] {
  const camera = a.depth.camera;
  if (!camera) return [];
  const { stated, suggested, best } = camera;
  const px = (v: number) => (v < 0.001 ? '< 0.001 px' : `${v.toFixed(3)} px`);
  const findings: Finding[] = [];
  if (
    best.residual >
    Math.max(CAMERA_UNEXPLAINED.pixels, CAMERA_UNEXPLAINED.share * camera.motionPixels)
  ) {
    findings.push({
      area: 'depth',
      id: 'camera-inconsistent',
      severity: 'warning',
      message:
        `no camera motion explains the vectors from this depth: the best lens leaves ${px(best.residual)} ` +
        `on the best-fitting 70 % of pixels (vectors ${px(camera.motionPixels)}); depth from another frame or ` +
        'pass, linear depth, or vectors of another convention than the depth',
      confidence: round2(clamp01(best.residual / (2 * CAMERA_UNEXPLAINED.pixels))),
    });
    return findings;
  }
  if (stated.residual <= CAMERA_WRONG * suggested.residual + 0.02) return findings;
  const confidence = round2(clamp01((1 - suggested.residual / stated.residual) / 0.5));
  // Four significant digits: finer than the fit can tell, and readable.
  const round4 = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);
  const fix = {
    ...(suggested.fovYScale !== 1 ? { fovYScale: round4(suggested.fovYScale) } : {}),
    ...(suggested.farScale !== 1 ? { cameraFarScale: round4(suggested.farScale) } : {}),
  };
  const fovY = a.params[a.pairs[0]?.frame ?? 0]!.fovY;
  const parts: string[] = [];
  if (fix.fovYScale !== undefined)
    parts.push(
      `fovY ${fmt((fovY * fix.fovYScale * 180) / Math.PI)}° rather than ${fmt((fovY * 180) / Math.PI)}° (${factorText(fix.fovYScale)})`,
    );
  if (fix.cameraFarScale !== undefined) {
    // Beyond every surface, a larger far plane changes no depth much: say so when it ties.
    const infinite = camera.farCurve.find((c) => !Number.isFinite(c.farScale));
    const open = infinite && ties(infinite, suggested);
    parts.push(
      `a far plane ${factorText(fix.cameraFarScale)} the stated one${open ? ' or larger' : ''}`,
    );
  }
  findings.push({
    area: 'depth',
    id: fix.fovYScale !== undefined ? 'camera-fovy' : 'camera-far',
    severity: 'warning',
    message:
      `static surfaces move as ${parts.join(' and ')} predicts: a camera motion fits the vectors to ` +
      `${px(suggested.residual)} with it and to ${px(stated.residual)} with the stated lens. ` +
      (fix.cameraFarScale !== undefined
        ? 'The far plane turns depth into distance for the disocclusion test. '
        : '') +
      (fix.fovYScale !== undefined
        ? 'Uplift does not read fovY yet, but a wrong one means the projection you report is not the one you render with. '
        : '') +
      'Pass the values of the projection the frame was rendered with',
    confidence,
    fix,
  });
  return findings;
}

function colorFindings(a: Analysis): Finding[] {
  const c = a.color;
  const findings: Finding[] = [];
  const frames = c.badFrames.slice(0, 8).join(', ') + (c.badFrames.length > 8 ? '…' : '');
  if (c.nonFinite > 0) {
    findings.push({
      area: 'color',
      id: 'color-nonfinite',
      severity: 'error',
      message: `${c.nonFinite} NaN/Inf color values (frames ${frames}): Uplift zeroes them, leaving black holes`,
      confidence: 1,
    });
  }
  if (c.negative > 0) {
    findings.push({
      area: 'color',
      id: 'color-negative',
      severity: 'warning',
      message: `${c.negative} negative color values (frames ${frames}): clamped to 0`,
      confidence: 1,
    });
  }
  if (c.onSrgbGrid > 0.99) {
    findings.push({
      area: 'color',
      id: 'color-srgb8',
      severity: 'info',
      message: `color comes from an 8-bit sRGB target (decoded to linear, as it should be); it clips at 1 (${pct(c.atOne)} of values are exactly 1)`,
      confidence: 1,
    });
  } else if (c.onLinearGrid > 0.99) {
    const meanLuma = c.meanLuma.reduce((s, f) => s + f.luma, 0) / Math.max(1, c.meanLuma.length);
    const encoded = meanLuma > 0.3;
    findings.push({
      area: 'color',
      id: 'color-linear8',
      severity: encoded ? 'warning' : 'info',
      message:
        `color is on the 8-bit k/255 grid: an 8-bit UNORM target read as linear. ` +
        (encoded
          ? `Its mean luma ${fmt(meanLuma)} suggests sRGB-encoded values: set colorSpace "srgb" (or view the target as -srgb)`
          : 'If it holds sRGB-encoded values, set colorSpace "srgb"'),
      confidence: encoded ? 0.5 : 0.3,
      ...(encoded && a.header.colorSpace === 'linear'
        ? { fix: { colorSpace: 'srgb' as const } }
        : {}),
    });
  }
  if (c.largestJump.stops > 1) {
    findings.push({
      area: 'color',
      id: 'color-exposure-jump',
      severity: 'warning',
      message: `brightness changes by ${fmt(c.largestJump.stops)} stops at frame ${c.largestJump.frame} without a reset: pass the exposure you apply (or reset on cuts)`,
      confidence: 0.7,
    });
  }
  return findings;
}

/** All findings of an analysis. */
export function collectFindings(a: Analysis): Finding[] {
  const motion = motionFindings(a);
  return [
    ...motion.findings,
    ...jitterFindings(a, motion.trusted),
    ...depthFindings(a),
    ...cameraFindings(a),
    ...colorFindings(a),
  ];
}

/** The fixes of the findings, combined into one. */
export function combinedFix(findings: readonly Finding[]): CheckFix {
  const fix: CheckFix = {};
  for (const f of findings) Object.assign(fix, f.fix ?? {});
  return fix;
}

/** Clean: no error or warning. */
export function isClean(findings: readonly Finding[]): boolean {
  return findings.every((f) => f.severity === 'info');
}
