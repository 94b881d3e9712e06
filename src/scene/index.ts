/** The data engine: scenes (procedural and glTF), camera paths, the rasterizer and its frames. */
export { createSceneRenderer, sceneFrameSource } from './renderer.ts';
export type { RenderedFrame, SceneRenderer, SceneRendererOptions } from './renderer.ts';
export { loadScene } from './load.ts';
export { loadGlbScene, loadGltfScene } from './gltf.ts';
export { PROCEDURAL_SCENES, proceduralScene } from './procedural/scenes.ts';
export { CAMERA_PATHS, cameraPath } from './paths.ts';
export type { CameraPath, CameraPose, PathContext, PathFactory } from './paths.ts';
export { createSceneRasterizer, referenceSampleOffset } from './rasterizer.ts';
export type { SceneRasterizer } from './rasterizer.ts';
export type { InputImages, RasterView } from './raster-view.ts';
export {
  cameraMatrices,
  deviceDepth,
  jitterProjection,
  perspective,
  projectToPixels,
  unprojectPixel,
  viewMatrix,
} from './camera.ts';
export type { Camera, CameraMatrices } from './camera.ts';
export { material } from './types.ts';
export type {
  AlphaMode,
  DirectionalLight,
  Material,
  Mesh,
  Scene,
  SceneObject,
  TextureData,
} from './types.ts';
export { analyticSequence } from './analytic.ts';
