/** Image quality metrics in the tonemapped display domain (DESIGN §9). */
export * from './display.ts';
export * from './filter.ts';
export * from './psnr.ts';
export * from './ssim.ts';
export * from './flip.ts';
export * from './temporal.ts';
export * from './sequence.ts';
