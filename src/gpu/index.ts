export * from './device.ts';
export * from './resources.ts';
export * from './profiler.ts';
export * from './gpu-image.ts';
export * from './kernel.ts';
export * from './uniforms.ts';
export type { Resolver, ResolveInputs } from './resolver.ts';
