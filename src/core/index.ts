export * from './image.ts';
export * from './quality.ts';
export * from './jitter.ts';
export * from './tonemap.ts';
export * from './frame.ts';
export * from './random.ts';
export * from './errors.ts';
