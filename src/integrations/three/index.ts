/**
 * `uplift/three`: Uplift as a three.js post-processing node (WebGPURenderer, TSL). three is an
 * optional peer dependency, imported only here, so the other entries never load it.
 */
export { UpliftNode, uplift } from './uplift-node.ts';
export type { UpliftNodeOptions } from './uplift-node.ts';
