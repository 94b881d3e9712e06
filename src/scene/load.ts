/** Resolves a `--scene` argument: a built-in procedural scene name or a glTF / GLB file. */
import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { loadGltfScene } from './gltf.ts';
import { PROCEDURAL_SCENES, proceduralScene } from './procedural/scenes.ts';
import type { Scene } from './types.ts';

/** The scene named by `spec` (built-in name, or path to .gltf / .glb), built with `seed`. */
export async function loadScene(spec: string, seed: number): Promise<Scene> {
  if (spec in PROCEDURAL_SCENES) return proceduralScene(spec, seed);
  if (/\.(gltf|glb)$/i.test(spec)) {
    if (!existsSync(spec)) throw new InputError(`scene file ${spec} does not exist`);
    return loadGltfScene(spec, seed);
  }
  throw new InputError(
    `--scene must be a built-in scene (${Object.keys(PROCEDURAL_SCENES).join(', ')}) or a .gltf / .glb file, got "${spec}"`,
  );
}
