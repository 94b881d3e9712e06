/**
 * Frame-generation samples on the GPU, as training reads them: per sample the network's input
 * (the heuristic's dilation, splat and resolve, then the features pass, exactly as the frame
 * generator runs them) and the tonemapped truth as a planar tensor. Nothing before the network trains, so
 * both are made once per run.
 */
import { FRAMEGEN_FEATURE_CHANNELS } from '../../core/framegen-neural.ts';
import type { FrameGenerationParams } from '../../core/frame-generation.ts';
import type { Size } from '../../core/quality.ts';
import { tonemapImage } from '../../core/tonemap.ts';
import { createGpuImage, uploadGpuImage } from '../../gpu/gpu-image.ts';
import { createStorageBuffer } from '../../gpu/resources.ts';
import { encodeFramegenFeatures } from '../../gpu/passes/framegen-features.ts';
import { encodeFrameGenerationDilate } from '../../gpu/passes/framegen-dilate.ts';
import { encodeFrameGenerationResolve } from '../../gpu/passes/framegen-resolve.ts';
import { encodeFrameGenerationSplat, splatBytes } from '../../gpu/passes/framegen-splat.ts';
import type { FramegenSample } from './samples.ts';

/** The parameters of a sample's generated frame: its t between two frames of one shot. */
export function sampleParams(sample: FramegenSample): FrameGenerationParams {
  return {
    t: sample.t,
    motionScale: [1, 1],
    cameraNear: sample.cameraNear,
    cameraFar: sample.cameraFar,
    reset: false,
  };
}

/** A sample's tensors: features (padded size = display size) and tonemapped truth (3 planes). */
export interface GpuSample {
  readonly features: GPUBuffer;
  readonly truth: GPUBuffer;
}

/** The tonemapped truth as planar RGB. */
function tonemappedPlanes(image: FramegenSample['truth']): Float32Array {
  const rgb = tonemapImage(image);
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = rgb.data[i * 3 + c]!;
  }
  return out;
}

/** Uploads a sample and records its features; the buffers are the caller's to destroy. */
export async function uploadSample(device: GPUDevice, sample: FramegenSample): Promise<GpuSample> {
  const { width, height } = sample.previous;
  const size: Size = [width, height];
  const params = sampleParams(sample);
  const inputs = [sample.previous, sample.current, sample.motion, sample.depth, sample.reactive];
  const [previous, current, motion, depth, reactive] = inputs.map((i) => uploadGpuImage(device, i));
  const splat = device.createBuffer({
    size: splatBytes(motion!.width, motion!.height),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const renderImage = (label: string) =>
    createGpuImage(device, motion!.width, motion!.height, label);
  const surfaces = renderImage('sample dilated surfaces');
  const field = renderImage('sample field');
  const features = device.createBuffer({
    label: `features ${sample.clip} ${sample.pair}`,
    size: FRAMEGEN_FEATURE_CHANNELS * width * height * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const encoder = device.createCommandEncoder({ label: 'framegen sample features' });
  encoder.clearBuffer(splat);
  const pass = encoder.beginComputePass();
  encodeFrameGenerationDilate(device, pass, motion!, depth!, params, surfaces);
  encodeFrameGenerationSplat(device, pass, surfaces, params, splat);
  encodeFrameGenerationResolve(device, pass, surfaces, splat, params, field);
  const frames = { previous: previous!, current: current!, field, reactive: reactive! };
  encodeFramegenFeatures(device, pass, frames, params.t, size, features);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  const images = [previous, current, motion, depth, reactive, surfaces, field];
  for (const image of images) image!.buffer.destroy();
  splat.destroy();
  return { features, truth: createStorageBuffer(device, tonemappedPlanes(sample.truth)) };
}
