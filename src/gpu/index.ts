export * from './device.ts';
export * from './resources.ts';
