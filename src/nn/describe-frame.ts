/**
 * What one INT8 neural frame moves (`uplift info <file.uplift> --plan`): every pass the frame API
 * records, from preparing the input textures to writing the output, with the
 * bytes each reads and writes, per frame, per display pixel and per render pixel, and the time
 * that traffic takes at a memory bandwidth (by default the H200's ~4.8 TB/s, DESIGN §11): the
 * floor of a pass bound by memory, never a measurement.
 *
 * Bytes follow the bindings and their formats, each touched once per frame (neighbourhood reads
 * hit the cache): images are vec4 f32 (16 bytes a pixel, src/gpu/gpu-image.ts) except the
 * history and recurrent state, previous and reprojected (`historyFormat`, as the resolver's default
 * f32 unless given), int8 tensors
 * 4 channels a word, the network's raw output 9 f32 planes at the padded size, input textures as
 * the benchmark uploads them (rgba32float color, r32float depth, rg32float motion), the output
 * texture rgba32float. Each pass lists its bindings in binding order (uniforms left out) with the
 * size of what is bound, so a test can hold the list against the bind groups a real frame creates
 * (test/nn-frame-traffic.test.ts); `bytes` is what the pass touches, less than the bound size
 * where it reads part of a buffer (one plane of the raw output; its channels of a shared int8
 * tensor). The network's kernels come from `describeInt8Plan`, without the input quantizations
 * the features pass does itself. Where the network's last layer runs the filter + blend in its
 * epilogue (src/nn/resolve/last-layer-filter-blend.ts: an up2x2 or conv1x1 last layer, as the
 * resolver runs it), that layer leaves the network's kernels and becomes the pass that replaces
 * the filter + blend: it reads the layer's int8 input, weights and bias, and the raw output is
 * neither written nor read. Without sharpening (as `uplift info` describes it) the filter + blend
 * (pass or last layer) writes the output image and texture itself and there is no output pass
 * (src/gpu/passes/output.ts `wgslFoldedOutput`; the exposure it divides by is bound as a uniform,
 * left out with the uniforms: 16 bytes). Where the network's first layer computes the features
 * (src/nn/resolve/features-first-layer.ts: network v3's down2x2, as the resolver runs it), that
 * layer leaves the network's kernels and replaces the features pass: it reads the features' inputs
 * and the layer's weights and bias and writes the layer's output; the int8 features are neither
 * written nor read.
 */
import { packedGroups } from '../core/int8.ts';
import type { Int8Plan } from '../core/int8-plan.ts';
import {
  FEATURE_CHANNELS,
  RAW_CHANNELS,
  REPROJECT_FEATURES_LABEL,
  REPROJECT_IN_FEATURES_BY_DEFAULT,
  paddedSize,
} from '../core/neural-frame.ts';
import type { Size } from '../core/quality.ts';
import { DEFAULT_HISTORY_FORMAT, type ImageFormat } from '../core/image.ts';
import { texelBytes } from '../gpu/gpu-image.ts';
import { describeInt8Plan, type PlanDescription } from './describe-int8-plan.ts';
import {
  firstStepPrologueRefusal,
  concatPartsNotStored,
  FEATURES_FIRST_LAYER_BY_DEFAULT,
  LAST_LAYER_FILTER_BLEND_BY_DEFAULT,
  lastStepEpilogueRefusal,
  producersInConsumers,
} from './int8-network.ts';
import { int8OutBlock, int8WeightWords } from './ops/int8/common.ts';
import { haloLabel } from './ops/int8/producer-in-halo.ts';

/** The H200's memory bandwidth, bytes per second (DESIGN §11: ~4.8 TB/s). */
export const H200_BANDWIDTH = 4.8e12;

/** Bytes of one pixel of a vec4 f32 image. */
const IMAGE_TEXEL = 16;

/** One binding of a pass. `read_write` counts as read and written. */
export interface FrameBinding {
  readonly name: string;
  readonly access: 'read' | 'write' | 'read_write';
  /** Size of the bound buffer or texture. */
  readonly boundBytes: number;
  /** What the pass touches of it in a frame. */
  readonly bytes: number;
}

/** One pass (a kernel dispatch or a copy) of the frame. */
export interface FramePass {
  readonly name: string;
  /** The kernel's label (as GPU errors and validation name it); undefined for the copy. */
  readonly kernel: string | undefined;
  /** The frame API's timing stage it belongs to (`timer` labels). */
  readonly stage: 'prepare' | 'reproject' | 'resolve' | 'output' | 'copy';
  /** Empty for the network's kernels (their traffic is the plan's). */
  readonly bindings: readonly FrameBinding[];
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export interface FrameDescription {
  readonly displaySize: Size;
  readonly renderSize: Size;
  /** The filter and the blend in one pass (the resolver's), or as two (training's). */
  readonly fusedFilterBlend: boolean;
  /** The filter + blend in the network's last layer (no raw output); implies fusedFilterBlend. */
  readonly lastLayerFilterBlend: boolean;
  /** The output written by the filter + blend (no output pass); implies fusedFilterBlend. */
  readonly foldedOutput: boolean;
  /** The features computed by the network's first layer (no int8 features written or read). */
  readonly featuresFirstLayer: boolean;
  /** The reprojection in the features pass (no reproject pass). */
  readonly reprojectInFeatures: boolean;
  /** How history and recurrent state are stored. */
  readonly historyFormat: ImageFormat;
  readonly passes: readonly FramePass[];
  /** The network's kernels (the features pass writes its int8 input, so no quantize kernels). */
  readonly network: PlanDescription;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly bandwidth: number;
  readonly text: string;
}

export interface FrameDescriptionOptions {
  /**
   * The filter and the blend fused (default true, as the neural resolver runs them); false lists
   * them as two passes, with the history and state in the same format, so that the difference is
   * the fusion's alone.
   */
  readonly fusedFilterBlend?: boolean;
  /**
   * The filter + blend in the network's last layer's epilogue (default: as the resolver runs it,
   * where the plan allows it on the dot4I8Packed kernels, `LAST_LAYER_FILTER_BLEND_BY_DEFAULT`;
   * false: the last layer writes the raw output and the fused filter + blend pass reads it). Needs
   * fusedFilterBlend.
   */
  readonly lastLayerFilterBlend?: boolean;
  /** How history and recurrent state are stored (default DEFAULT_HISTORY_FORMAT, as the resolver). */
  readonly historyFormat?: ImageFormat;
  /**
   * The output written by the fused filter + blend (pass or last layer), as the resolver does on
   * frames without sharpening (default: true where the filter and blend are fused); false lists
   * the output pass (frames with sharpening list it too, its RCAS reads aside).
   */
  readonly foldedOutput?: boolean;
  /**
   * The features computed in the network's first layer where the plan allows it on the
   * dot4I8Packed kernels (true), or the features pass writing the int8 features the first layer
   * reads (default, as the resolver runs it: FEATURES_FIRST_LAYER_BY_DEFAULT).
   */
  readonly featuresFirstLayer?: boolean;
  /**
   * The reprojection done by the features pass (`reprojectInFeatures` of the neural resolver,
   * src/nn/resolve/reproject-features.ts): no reproject pass, no reprojected state (default, as
   * the resolver runs it: REPROJECT_IN_FEATURES_BY_DEFAULT where the features pass runs; false
   * keeps the reproject pass). Not with the features in the first layer.
   */
  readonly reprojectInFeatures?: boolean;
  /** Bytes per second for the time column (default H200_BANDWIDTH). */
  readonly bandwidth?: number;
  /**
   * The network's kernels: dot4I8Packed (default: every adapter) or mixed (the default where the
   * device has exact i8 subgroup matrices; describeInt8Plan).
   */
  readonly int8Kernels?: 'dot4' | 'mixed';
}

/** The INT8 neural frame of `plan` at these sizes, pass by pass. */
export function describeInt8Frame(
  plan: Int8Plan,
  displaySize: Size,
  renderSize: Size,
  options: FrameDescriptionOptions = {},
): FrameDescription {
  const fused = options.fusedFilterBlend ?? true;
  // As the resolver decides (its frames always have RAW_CHANNELS outputs).
  const refusal = lastStepEpilogueRefusal(plan, 'dot4');
  const inLastLayer =
    fused &&
    (options.lastLayerFilterBlend ?? (refusal === undefined && LAST_LAYER_FILTER_BLEND_BY_DEFAULT));
  if (inLastLayer && refusal !== undefined) {
    throw new RangeError(`frame of ${plan.name}: no filter + blend in the last layer: ${refusal}`);
  }
  const foldedOutput = options.foldedOutput ?? fused;
  if (foldedOutput && !fused) {
    throw new RangeError(
      `frame of ${plan.name}: the output is folded into the fused filter + blend only`,
    );
  }
  // As the resolver decides (its networks read the FEATURE_CHANNELS features).
  const firstRefusal = firstStepPrologueRefusal(plan, 'dot4');
  const inFirstLayer =
    options.featuresFirstLayer ?? (FEATURES_FIRST_LAYER_BY_DEFAULT && firstRefusal === undefined);
  if (inFirstLayer && firstRefusal !== undefined) {
    throw new RangeError(`frame of ${plan.name}: no features in the first layer: ${firstRefusal}`);
  }
  const bandwidth = options.bandwidth ?? H200_BANDWIDTH;
  const [dw, dh] = displaySize;
  const [rw, rh] = renderSize;
  const [pw, ph] = paddedSize(displaySize);
  const render = rw * rh * IMAGE_TEXEL;
  const display = dw * dh * IMAGE_TEXEL;
  const historyFormat = options.historyFormat ?? DEFAULT_HISTORY_FORMAT;
  const history = dw * dh * texelBytes(historyFormat);
  const rawPlane = pw * ph * 4;
  const raw = RAW_CHANNELS * rawPlane;
  const exposureState = 16;

  const network = describeInt8Plan(plan, displaySize, options.int8Kernels);
  const allKernels = network.kernels.filter((k) => k.op !== 'quantize');
  // The last layer with the filter + blend epilogue is the filter + blend's pass, the first
  // layer computing the features the features pass: neither is a kernel of the network.
  const networkKernels = allKernels.slice(inFirstLayer ? 1 : 0, inLastLayer ? -1 : undefined);
  const rawBinding = (planes: number): FrameBinding => ({
    name: planes === RAW_CHANNELS ? 'raw' : `raw (${planes} of ${RAW_CHANNELS} planes)`,
    access: 'read',
    boundBytes: raw,
    bytes: planes * rawPlane,
  });
  const lastStep = plan.steps[plan.steps.length - 1]!;
  const last = lastLayerReads(plan, [pw, ph]);
  // The output image and texture (rgba32float), written by the output pass or the filter + blend.
  const outputWrites = [write('output', display), write('output texture', display)];
  const folded = foldedOutput ? outputWrites : [];
  const andOutput = foldedOutput ? ' + output' : '';
  const outputKernel = foldedOutput ? ' + output rgba32float' : '';
  const filterBlend = inLastLayer
    ? [
        pass(
          `last layer (${last.name}) + filter + blend${andOutput}`,
          'resolve',
          [
            ...last.op,
            read('prepared color', render),
            read('reprojected history', history),
            write('nn history', history),
            write('nn state', history),
            ...folded,
            ...last.halo,
          ],
          `int8 ${lastStep.op}${last.computing} + filter + blend${outputKernel} block 12`,
        ),
      ]
    : fused
      ? [
          pass(
            `nn kpn filter + blend${andOutput}`,
            'resolve',
            [
              rawBinding(RAW_CHANNELS),
              read('prepared color', render),
              read('reprojected history', history),
              write('nn history', history),
              write('nn state', history),
              ...folded,
            ],
            `nn kpn filter + blend${outputKernel}`,
          ),
        ]
      : [
          pass('nn kpn filter', 'resolve', [
            rawBinding(RAW_CHANNELS - 1),
            read('prepared color', render),
            write('nn filtered', display),
            write('nn state', history),
          ]),
          pass('nn blend', 'resolve', [
            read('nn filtered', display),
            read('reprojected history', history),
            read('prepared color', render),
            rawBinding(1),
            write('nn history', history),
          ]),
        ];

  const reprojectInFeatures =
    options.reprojectInFeatures ?? (REPROJECT_IN_FEATURES_BY_DEFAULT && !inFirstLayer);
  if (reprojectInFeatures && inFirstLayer) {
    throw new RangeError(
      `frame of ${plan.name}: no reprojection in the features pass with the features in the first layer`,
    );
  }
  const features = featuresPass(
    plan,
    inFirstLayer,
    [pw, ph],
    render,
    history,
    historyFormat,
    reprojectInFeatures ? exposureState : undefined,
    options.int8Kernels ?? 'dot4',
  );
  const reproject = pass('reproject', 'reproject', [
    read('prepared motion', render),
    read('previous history', history),
    read('previous state', history),
    write('reprojected history', history),
    write('reprojected state', history),
    read('exposure state', exposureState),
  ]);
  const passes: FramePass[] = [
    pass('exposure', 'prepare', [whole('exposure state', 'read_write', exposureState)]),
    // Prepare reads the input textures itself and keeps this frame's depth for the next one.
    pass('prepare', 'prepare', [
      read('color texture', rw * rh * 16),
      read('depth texture', rw * rh * 4),
      read('motion texture', rw * rh * 8),
      read('previous depth', render),
      write('prepared color', render),
      write('prepared motion', render),
      read('exposure state', exposureState),
      write('kept depth', render),
    ]),
    ...(reprojectInFeatures ? [] : [reproject]),
    features,
    ...networkKernels.map((k) => ({
      name: `network: ${k.name}`,
      kernel: k.name,
      stage: 'resolve' as const,
      bindings: [],
      bytesRead: k.bytesRead,
      bytesWritten: k.bytesWritten,
    })),
    ...filterBlend,
    ...(foldedOutput
      ? []
      : [
          pass('output rgba32float', 'output', [
            read('nn history', history),
            ...outputWrites,
            read('exposure state', exposureState),
          ]),
        ]),
  ];
  const bytesRead = passes.reduce((s, p) => s + p.bytesRead, 0);
  const bytesWritten = passes.reduce((s, p) => s + p.bytesWritten, 0);
  const description = {
    displaySize,
    renderSize,
    fusedFilterBlend: fused,
    lastLayerFilterBlend: inLastLayer,
    foldedOutput,
    featuresFirstLayer: inFirstLayer,
    reprojectInFeatures,
    historyFormat,
    passes,
    network: { ...network, kernels: networkKernels },
    bytesRead,
    bytesWritten,
    bandwidth,
  };
  return { ...description, text: formatFrame(description) };
}

function sumOf(bindings: readonly FrameBinding[]): number {
  return bindings.reduce((s, b) => s + b.bytes, 0);
}

function whole(name: string, access: FrameBinding['access'], bytes: number): FrameBinding {
  return { name, access, boundBytes: bytes, bytes };
}
const read = (name: string, bytes: number) => whole(name, 'read', bytes);

/**
 * What the last layer's kernel reads at padded size [pw, ph], in binding order: its op's input,
 * weights and bias (`op`), and after the filter + blend's bindings those of the producers a
 * conv3x3 last step computes in its halo (`halo`: ./ops/int8/producer-in-halo.ts; its input is
 * then the producer's, as stored). `name` lists the nodes, `computing` the kernel label's part.
 */
function lastLayerReads(plan: Int8Plan, [pw, ph]: [number, number]) {
  const producers = producersInConsumers(plan, 'dot4');
  const parts = concatPartsNotStored(plan, 'dot4', producers);
  const stored = (name: string) => {
    const t = plan.tensors.get(name)!;
    const channels = t.channels - (parts.get(name)?.channels ?? 0);
    return packedGroups(channels) * 4 * (pw / t.divisor) * (ph / t.divisor);
  };
  const weightsOf = (i: number) => {
    const s = plan.steps[i]!;
    return [
      read(`${s.node} weight`, 4 * int8WeightWords(s.op, s.inChannels, s.params.bias.length)),
      read(`${s.node} bias`, 4 * s.params.bias.length),
    ];
  };
  const i = plan.steps.length - 1;
  const step = plan.steps[i]!;
  const p = producers.get(i);
  if (p === undefined) {
    return {
      name: step.node,
      computing: '',
      op: [read(step.input, stored(step.input)), ...weightsOf(i)],
      halo: [],
    };
  }
  const producer = plan.steps[p]!;
  const inner = producers.get(p);
  const innerStep = inner === undefined ? undefined : plan.steps[inner]!;
  return {
    name: `${innerStep ? `${innerStep.node} + ` : ''}${producer.node} + ${step.node}`,
    computing: ` ${haloLabel(producer.op, innerStep?.op)}`,
    op: [read(producer.input, stored(producer.input)), ...weightsOf(i)],
    halo: [
      ...weightsOf(p),
      ...(producer.residual === undefined
        ? []
        : [read(producer.residual, stored(producer.residual))]),
      ...(innerStep ? [read(innerStep.input, stored(innerStep.input)), ...weightsOf(inner!)] : []),
    ],
  };
}
const write = (name: string, bytes: number) => whole(name, 'write', bytes);

function pass(
  name: string,
  stage: FramePass['stage'],
  bindings: FrameBinding[],
  kernel: string = name,
): FramePass {
  return {
    name,
    kernel,
    stage,
    bindings,
    bytesRead: sumOf(bindings.filter((b) => b.access !== 'write')),
    bytesWritten: sumOf(bindings.filter((b) => b.access !== 'read')),
  };
}

/**
 * The features pass, writing the network's int8 input tensors (its channels of each), or the
 * network's first layer computing the features (src/nn/resolve/features-first-layer.ts; its
 * kernel's label as that file builds it: the history's format, one output block), which writes
 * the layer's output instead. `render` and `history`: bytes of a render-size vec4 image and of a
 * display-size history image stored as `historyFormat`.
 */
function featuresPass(
  plan: Int8Plan,
  inFirstLayer: boolean,
  [pw, ph]: Size,
  render: number,
  history: number,
  historyFormat: ImageFormat,
  reprojectExposureState: number | undefined,
  int8Kernels: 'dot4' | 'mixed',
): FramePass {
  const inputs = [
    read('prepared color', render),
    read('prepared motion', render),
    read(
      reprojectExposureState === undefined ? 'reprojected history' : 'previous history',
      history,
    ),
    read(reprojectExposureState === undefined ? 'reprojected state' : 'previous state', history),
  ];
  // A concat whose part the network computes is stored without it (concatPartsNotStored).
  const notStored = concatPartsNotStored(plan, int8Kernels);
  /** A write of `channels` of int8 tensor `name` (at the padded size over its divisor). */
  const int8Write = (name: string, channels: number): FrameBinding => {
    const t = plan.tensors.get(name)!;
    const pixels = (pw / t.divisor) * (ph / t.divisor);
    const stored = t.channels - (notStored.get(name)?.channels ?? 0);
    return {
      name,
      access: 'write',
      boundBytes: packedGroups(stored) * 4 * pixels,
      bytes: packedGroups(channels) * 4 * pixels,
    };
  };
  if (reprojectExposureState !== undefined) {
    // Bindings in the kernel's order: the copies at 6 and 7, the history at 8, the exposure at 9.
    const copies = plan.quantizes.map((q) => int8Write(q.output, FEATURE_CHANNELS));
    return pass(
      `${REPROJECT_FEATURES_LABEL} (int8 only) + ${copies.length} int8`,
      'resolve',
      [
        ...inputs,
        ...copies,
        write('reprojected history', history),
        read('exposure state', reprojectExposureState),
      ],
      `${REPROJECT_FEATURES_LABEL} (${historyFormat} → ${historyFormat}) (int8 only) + ${copies.length} int8`,
    );
  }
  if (!inFirstLayer) {
    const copies = plan.quantizes.map((q) => int8Write(q.output, FEATURE_CHANNELS));
    return pass(`nn features (int8 only) + ${copies.length} int8`, 'resolve', [
      ...inputs,
      ...copies,
    ]);
  }
  const first = plan.steps[0]!;
  const channels = first.params.bias.length;
  const weightBytes = 4 * int8WeightWords(first.op, first.inChannels, channels);
  return pass(
    `nn features + first layer (${first.node})`,
    'resolve',
    [
      read(`${first.node} weight`, weightBytes),
      read(`${first.node} bias`, 4 * channels),
      int8Write(first.output, channels),
      ...inputs,
    ],
    `nn features (${historyFormat}) + int8 ${first.op} block ${int8OutBlock(channels)}`,
  );
}

/** The table `uplift info --plan` prints: the network's kernels as one row. */
function formatFrame(d: Omit<FrameDescription, 'text'>): string {
  const [dw, dh] = d.displaySize;
  const [rw, rh] = d.renderSize;
  const displayPixels = dw * dh;
  const renderPixels = rw * rh;
  const isNetwork = (p: FramePass) => p.name.startsWith('network: ');
  const networkRows = d.passes.filter(isNetwork);
  const rows: { name: string; read: number; written: number }[] = [];
  for (const p of d.passes) {
    if (isNetwork(p)) {
      if (p === networkRows[0]) {
        rows.push({
          name: `network (${networkRows.length} kernels)`,
          read: networkRows.reduce((s, k) => s + k.bytesRead, 0),
          written: networkRows.reduce((s, k) => s + k.bytesWritten, 0),
        });
      }
      continue;
    }
    rows.push({ name: p.name, read: p.bytesRead, written: p.bytesWritten });
  }
  const total = { name: 'whole frame', read: d.bytesRead, written: d.bytesWritten };
  const around = {
    name: 'all but the network',
    read: d.bytesRead - networkRows.reduce((s, k) => s + k.bytesRead, 0),
    written: d.bytesWritten - networkRows.reduce((s, k) => s + k.bytesWritten, 0),
  };
  const width = Math.max(44, ...rows.map((r) => r.name.length));
  const line = (r: { name: string; read: number; written: number }) =>
    [
      r.name.padEnd(width),
      (r.read / displayPixels).toFixed(1).padStart(8),
      (r.written / displayPixels).toFixed(1).padStart(8),
      ((r.read + r.written) / renderPixels).toFixed(1).padStart(9),
      ((r.read + r.written) / 1e6).toFixed(1).padStart(8),
      (((r.read + r.written) / d.bandwidth) * 1e6).toFixed(1).padStart(7),
    ].join(' ');
  return [
    `INT8 neural frame at ${dw}x${dh} from ${rw}x${rh}, ${d.passes.length} passes ` +
      `(${d.reprojectInFeatures ? 'reprojected in the features pass, ' : ''}${d.featuresFirstLayer ? 'features in the first layer, ' : ''}filter and blend ${d.lastLayerFilterBlend ? 'in the last layer' : d.fusedFilterBlend ? 'fused' : 'as two passes'}${d.foldedOutput ? ', writing the output' : ''}, history ${d.historyFormat}); bytes each pass ` +
      `touches once, µs at ${(d.bandwidth / 1e12).toFixed(1)} TB/s (a floor, not a measurement)`,
    `${'pass'.padEnd(width)}  B read/ B writ./   B r+w/       MB      µs`,
    `${''.padEnd(width)}  disp px  disp px  render px`,
    ...rows.map(line),
    line(around),
    line(total),
  ].join('\n');
}
