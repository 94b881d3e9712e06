export * from './device.ts';
export * from './resources.ts';
export * from './profiler.ts';
export * from './gpu-image.ts';
export * from './kernel.ts';
