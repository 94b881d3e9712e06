export * from './device.ts';
export * from './resources.ts';
export * from './profiler.ts';
