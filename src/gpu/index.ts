export * from './device.ts';
export * from './resources.ts';
export * from './profiler.ts';
export * from './gpu-image.ts';
export * from './kernel.ts';
export * from './uniforms.ts';
export type { Resolver, ResolveInputs } from './resolver.ts';
// What a caller's Resolver with `writesOutput` declares and binds to write the output itself.
export {
  OUTPUT_FORMATS,
  foldedOutputResources,
  wgslFoldedOutput,
  type FoldedOutput,
} from './passes/output.ts';
