/**
 * The cost side of the network v3 search: for every architecture of src/nn/networks.ts (v2 and
 * the v3 candidates), the INT8 network alone (whole forward, and one pass per node at 1080p) and
 * the whole INT8 neural frame, at 1920×1080 and 3840×2160 Performance, with TAAU at the same sizes
 * in the same run for the ratio, and v3a's frame with the filter + blend as its own pass (the
 * v3 frames run it in the network's last layer), with the output pass after it (they write
 * the output in the last layer) and with the features pass before the network (they compute the
 * features in the first layer), and v2's and v3a's frames on the subgroup-matrix kernels where the
 * device has them (v2's frame also on the mixed kernels: its head on the matrices).
 * He-initialised weights (the time does not depend on the values).
 */
import { macsPerOutputPixel } from '../src/core/graph.ts';
import type { Size } from '../src/core/quality.ts';
import { ARCHITECTURES } from '../src/nn/networks.ts';
import { subgroupMatricesUsable } from '../src/nn/ops/int8/matrix.ts';
import { FILTER_BLEND_BISECTS } from '../src/nn/resolve/filter-blend.ts';
import { REPROJECT_FEATURES_BISECTS } from '../src/nn/resolve/reproject-features.ts';
import { benchNetworkCase, caseGraph, networkCaseName, type NetworkCase } from './network.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';
import { benchUpscalerCase, upscalerCaseName, type UpscalerCase } from './upscaler.ts';

type CandidateCase =
  { kind: 'network'; case: NetworkCase } | { kind: 'upscaler'; case: UpscalerCase };

export function candidateCases(quick: boolean, subgroupMatrices = false): CandidateCase[] {
  const sizes: Size[] = quick
    ? [[48, 32]]
    : [
        [1920, 1080],
        [3840, 2160],
      ];
  const cases: CandidateCase[] = sizes.map((displaySize) => ({
    kind: 'upscaler',
    case: { method: 'taau', displaySize, quality: 'performance' },
  }));
  for (const network of Object.keys(ARCHITECTURES)) {
    for (const [i, size] of sizes.entries()) {
      cases.push({ kind: 'network', case: { size, precision: 'int8', perNode: false, network } });
      if (i === 0) {
        cases.push({ kind: 'network', case: { size, precision: 'int8', perNode: true, network } });
        // v2 per node with every producer in its own kernel: what the halos save, kernel by kernel.
        if (network === 'v2') {
          const c: NetworkCase = {
            size,
            precision: 'int8',
            perNode: true,
            network,
            producersInHalos: false,
          };
          cases.push({ kind: 'network', case: c });
        }
      }
      const frame: UpscalerCase = {
        method: 'neural',
        precision: 'int8',
        network,
        displaySize: size,
        quality: 'performance',
      };
      cases.push({ kind: 'upscaler', case: frame });
      // v2's frame again with the filter + blend as its own pass (its default runs it in the 3×3
      // head since 2026-12-07), as v3a's below: from one run, what the fusion saves.
      if (network === 'v2') {
        cases.push({ kind: 'upscaler', case: { ...frame, lastLayerFilterBlend: false } });
      }
      // v2's and v3a's frame with every conv3x3 on 16×8 tiles (the default takes 16×16 on layers
      // of 500 K output pixels and more since 2026-12-07): what the larger tile saves.
      if (network === 'v2' || network === 'v3a') {
        cases.push({ kind: 'upscaler', case: { ...frame, conv3x3LargeTileFrom: Infinity } });
      }
      // v2's frame with up1 and mix (with its up0) as their own kernels (the default computes them
      // in dec1's and the head's halos since 2026-12-07): what those fusions save.
      if (network === 'v2') {
        cases.push({ kind: 'upscaler', case: { ...frame, producersInHalos: false } });
      }
      // v2's and v3a's frame with the network on tensor cores (without the fusions, which need
      // dot4I8Packed), where the device has subgroup matrices.
      if (subgroupMatrices && (network === 'v2' || network === 'v3a')) {
        cases.push({ kind: 'upscaler', case: { ...frame, int8Kernels: 'subgroup-matrix' } });
      }
      // v2 on the mixed kernels (its head alone on tensor cores: the one op they won on 12-05,
      // the frame's default where the device had them until 12-07), the network per node and
      // whole, and the frame beside the default one on dot4I8Packed.
      if (subgroupMatrices && network === 'v2') {
        for (const perNode of i === 0 ? [false, true] : [false]) {
          const c = {
            size,
            precision: 'int8' as const,
            perNode,
            network,
            kernels: 'mixed' as const,
          };
          cases.push({ kind: 'network', case: c });
        }
        cases.push({ kind: 'upscaler', case: { ...frame, int8Kernels: 'mixed' } });
      }
      // v2's and v3a's frame with the reproject pass (the default reprojects in the features
      // pass since 2026-12-05): what that fusion saves in the same run.
      if (network === 'v2' || network === 'v3a') {
        cases.push({ kind: 'upscaler', case: { ...frame, reprojectInFeatures: false } });
      }
      if (network === 'v3a') {
        // With RCAS after it (sharpness 0.5; QUALITY §4 "ꟻLIP's anatomy": it lifts the 720p
        // subset): what the output pass costs the frame.
        cases.push({ kind: 'upscaler', case: { ...frame, sharpness: 0.5 } });
        // With the coverage blend of the shipped weights (k = 0.5): what the coverage costs.
        cases.push({ kind: 'upscaler', case: { ...frame, coverageBlend: 0.5 } });
        cases.push({ kind: 'upscaler', case: { ...frame, lastLayerFilterBlend: false } });
        // And with the output pass after it: what writing the output in the last layer saves.
        cases.push({ kind: 'upscaler', case: { ...frame, foldOutput: false } });
        // And with the features in the first layer (not the default: slower on the H200 and
        // the H100, 2026-12-05): what that fusion changes.
        cases.push({ kind: 'upscaler', case: { ...frame, featuresFirstLayer: true } });
      }
      // v2's and v3a's frame with a part of the filter + blend left out in turn, at the first
      // size (outputs wrong): where the last layer's epilogue spends its time.
      if ((network === 'v2' || network === 'v3a') && i === 0) {
        for (const filterBlendBisect of FILTER_BLEND_BISECTS) {
          cases.push({ kind: 'upscaler', case: { ...frame, filterBlendBisect } });
        }
        // And of the reproject + features pass: where its time goes.
        for (const reprojectFeaturesBisect of REPROJECT_FEATURES_BISECTS) {
          cases.push({ kind: 'upscaler', case: { ...frame, reprojectFeaturesBisect } });
        }
      }
      // v2's and v3a's default frame again after the others: the first case of a network in a
      // process measured 5–10 µs slower than later ones with the same kernels (H100, 2026-12-07),
      // so A/B comparisons take this one, not the first.
      if (network === 'v2' || network === 'v3a') {
        cases.push({ kind: 'upscaler', case: { ...frame, again: true } });
      }
    }
  }
  return cases;
}

export function candidateCaseName(c: CandidateCase): string {
  return c.kind === 'network'
    ? `network ${c.case.network ?? 'v2'} ${networkCaseName({ ...c.case, network: undefined })}`
    : upscalerCaseName(c.case);
}

export function benchCandidates(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  return runCases(
    'candidates',
    candidateCases(settings.quick, subgroupMatricesUsable(device)),
    candidateCaseName,
    settings,
    async (c) => {
      const result =
        c.kind === 'network'
          ? await benchNetworkCase(device, c.case, settings)
          : await benchUpscalerCase(device, c.case, settings);
      const derived: Record<string, number> = { ...result.derived };
      if (c.case.network) derived['macsPerPixel'] = macsPerOutputPixel(caseGraph(c.case.network));
      return { ...result, name: candidateCaseName(c), derived };
    },
  );
}
