/**
 * Backward of one whole neural frame on the GPU: blend → activations + filter → network
 * (`createNetworkBackward`) → features → (optionally) the reprojection into the previous frame.
 * Gradient buffers are allocated once per display size. CPU twin: `neuralFrameBackwardCpu` and
 * `reprojectBackwardCpu` in src/reference/nn/frame-backward.ts.
 */
import type { Size } from '../../core/quality.ts';
import { createGpuImage, type GpuImage } from '../../gpu/gpu-image.ts';
import type { GraphDescription } from '../../core/graph.ts';
import { createNetworkBackward, type NetworkBackward } from './network.ts';
import { createGpuTensor, type GpuTensor } from '../tensor.ts';
import { RAW_CHANNELS, paddedSize } from '../../core/neural-frame.ts';
import { encodeBlendBackward } from './blend.ts';
import { encodeKpnFilterBackward } from './kpn-filter.ts';
import { encodeFeaturesBackward, type ReprojectedGradTargets } from './features.ts';
import { encodeReprojectBackward, reprojectBackwardScratchBytes } from './reproject.ts';

/** What the frame's forward produced and read, and the upstream gradients. */
export interface NeuralFrameBackwardArgs {
  /** Prepared color and motion (render size). */
  readonly prepared: { readonly color: GpuImage; readonly motion: GpuImage };
  /** The reprojected history and state the frame read (display size). */
  readonly reprojected: { readonly history: GpuImage; readonly state: GpuImage };
  readonly jitter: readonly [number, number];
  readonly reset: boolean;
  /** The filter's output of the forward (rgb, α in a). */
  readonly filtered: GpuImage;
  /** Every network tensor of the forward (`GpuNetworkRun.activations`; raw output included). */
  readonly activations: ReadonlyMap<string, GpuTensor>;
  /** Parameter values by name (`Network.parameters`). */
  readonly params: ReadonlyMap<string, GPUBuffer>;
  /** Receive dLoss/d(parameter) by name. */
  readonly paramGrads: ReadonlyMap<string, GPUBuffer>;
  /** Add to `paramGrads` (later frames of a clip) instead of overwriting. */
  readonly accumulateParams?: boolean;
  /** dLoss/d(new history rgb) and dLoss/d(new state) (display size vec4). */
  readonly dHistory: GpuImage;
  readonly dState: GpuImage;
  /** The previous frame's history, input of the reprojection: if given, `previous` is computed. */
  readonly previousHistory?: GpuImage;
  /** The reprojection's exposure rescale of the history (exposure / previous exposure; 1: none). */
  readonly historyScale?: number;
}

/** The whole-frame backward for one display size. */
export interface NeuralFrameBackward {
  readonly displaySize: Size;
  /** dLoss/d(raw network output). */
  readonly dRaw: GpuTensor;
  /** dLoss/d(reprojected history rgb, state). */
  readonly reprojected: ReprojectedGradTargets;
  /** dLoss/d(previous history rgb, previous state), when `previousHistory` was given. */
  readonly previous: ReprojectedGradTargets;
  /** Records the backward into `encoder`. */
  encode(encoder: GPUCommandEncoder, args: NeuralFrameBackwardArgs): void;
  destroy(): void;
}

/** Allocates the gradient buffers of a neural frame around `graph` at `displaySize`. */
export function createNeuralFrameBackward(
  device: GPUDevice,
  graph: GraphDescription,
  displaySize: Size,
): NeuralFrameBackward {
  const [width, height] = displaySize;
  const [pw, ph] = paddedSize(displaySize);
  const network: NetworkBackward = createNetworkBackward(device, graph, ph, pw);
  const d = (label: string) => createGpuImage(device, width, height, label);
  const dRaw = createGpuTensor(device, { channels: RAW_CHANNELS, height: ph, width: pw }, 'd raw');
  const blend = {
    filtered: d('d filtered'),
    history: d('d history (blend)'),
    betaRaw: d('d raw beta'),
  };
  const reprojected = { history: d('d reprojected history'), state: d('d reprojected state') };
  const previous = { history: d('d previous history'), state: d('d previous state') };
  const scratch = device.createBuffer({
    label: 'reproject backward scratch',
    size: reprojectBackwardScratchBytes(width, height),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const output = graph.outputs[0]!;
  const input = graph.inputs[0]!.name;
  return {
    displaySize,
    dRaw,
    reprojected,
    previous,
    encode(encoder, args) {
      const raw = args.activations.get(output);
      if (!raw) throw new RangeError(`frame backward: activation ${output} is missing`);
      let pass = encoder.beginComputePass({ label: 'nn frame backward' });
      const { history, state } = args.reprojected;
      const context = {
        color: args.prepared.color,
        raw,
        reset: args.reset,
        historyGuard: graph.historyGuard,
      };
      encodeBlendBackward(device, pass, args.filtered, history, context, args.dHistory, blend);
      encodeKpnFilterBackward(
        device,
        pass,
        raw,
        args.prepared.color,
        args.jitter,
        { filtered: blend.filtered, state: args.dState, betaRaw: blend.betaRaw },
        dRaw,
        graph.coverageBlend ?? 0,
      );
      network.encode(pass, {
        activations: args.activations,
        params: args.params,
        outputGrads: new Map([[output, dRaw.buffer]]),
        paramGrads: args.paramGrads,
        accumulateParams: args.accumulateParams,
      });
      encodeFeaturesBackward(
        device,
        pass,
        {
          dFeatures: network.inputGrads.get(input)!,
          history,
          state,
          color: args.prepared.color,
          dHistoryBlend: blend.history,
        },
        args.reset,
        reprojected,
      );
      pass.end();
      if (args.previousHistory) {
        encodeReprojectBackward(
          device,
          encoder,
          args.prepared.motion,
          args.previousHistory,
          args.reset,
          reprojected,
          scratch,
          previous,
          args.historyScale ?? 1,
        );
      }
    },
    destroy() {
      network.destroy();
      dRaw.buffer.destroy();
      for (const image of [blend, reprojected, previous].flatMap((g) => Object.values(g))) {
        image.buffer.destroy();
      }
      scratch.destroy();
    },
  };
}
