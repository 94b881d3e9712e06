/**
 * One RenderPipeline per way of making the display image, all from the same scene pass setup:
 * Uplift (neural or TAAU) through `uplift/three`, three's own TAAUNode at the same render size,
 * a bilinear stretch of the render-size pass, and the native (display-size, no AA) render.
 */
import * as THREE from 'three/webgpu';
import { mrt, output, pass, velocity } from 'three/tsl';
import { taau } from 'three/addons/tsl/display/TAAUNode.js';
import { uplift, type UpliftNode, type UpliftNodeOptions } from 'uplift/three';

export const METHODS = [
  'uplift-neural',
  'uplift-taau',
  'three-taau',
  'bilinear',
  'native',
] as const;
export type Method = (typeof METHODS)[number];

/** Display / render size per axis of the upscaling methods (Uplift's Performance mode). */
export const RATIO = 2;

export interface MethodPipeline {
  readonly pipeline: THREE.RenderPipeline;
  /** The Uplift node, for the Uplift methods. */
  readonly node?: UpliftNode;
  /** Resolves when the first frame can be rendered (the upscaler created and compiled). */
  ready(): Promise<void>;
  dispose(): void;
}

export function createPipeline(
  renderer: THREE.WebGPURenderer,
  scene: THREE.Scene,
  camera: THREE.PerspectiveCamera,
  method: Method,
  upliftOptions: UpliftNodeOptions = {},
): MethodPipeline {
  const scenePass = pass(scene, camera);
  const dispose = () => {
    scenePass.dispose();
    pipeline.dispose();
  };
  let pipeline: THREE.RenderPipeline;
  if (method === 'native' || method === 'bilinear') {
    if (method === 'bilinear') scenePass.setResolutionScale(1 / RATIO);
    pipeline = new THREE.RenderPipeline(renderer, scenePass);
    return { pipeline, ready: async () => {}, dispose };
  }
  scenePass.setMRT(mrt({ output, velocity }));
  const color = scenePass.getTextureNode('output');
  const depth = scenePass.getTextureNode('depth');
  const motion = scenePass.getTextureNode('velocity');
  if (method === 'three-taau') {
    scenePass.setResolutionScale(1 / RATIO);
    const node = taau(color, depth, motion, camera);
    pipeline = new THREE.RenderPipeline(renderer, node);
    return { pipeline, ready: async () => {}, dispose: () => (node.dispose(), dispose()) };
  }
  const node = uplift(color, depth, motion, camera, {
    method: method === 'uplift-neural' ? 'neural' : 'taau',
    quality: RATIO,
    ...upliftOptions,
  });
  pipeline = new THREE.RenderPipeline(renderer, node);
  return {
    pipeline,
    node,
    ready: async () => void (await node.init(renderer)),
    dispose: () => (node.dispose(), dispose()),
  };
}
