/**
 * HDR highlights added to any scene: small emissive sparkles (lamps, sun glints on wet or metal
 * edges, LEDs) of 8 to 250 times the brightness of white, some drifting, and a few polished metal
 * beads whose sun specular peaks far above 1. Measured on the procedural scenes as built (192×128,
 * 2 seeds, 3 frames each): values above 4 are 0.005–0.17 % of the color in city, fence, foliage,
 * particles, mix and poles, and none at all in runners, signs and meadow (whose brightest value is
 * the sky's 1.6). Engines hand such highlights every frame, and a temporal upscaler that blends
 * them in the tonemapped domain can ghost or flicker on them, so training sees them on purpose.
 *
 * A separate pass over a built scene (not part of each builder): scenes built without it, and so
 * every validation entry's render, stay exactly as they were. Sparkles are placed around the
 * scene's focus from their own random stream, so the same (scene, seed) always gets the same ones.
 */
import { mulberry32 } from '../../core/random.ts';
import { sphereMesh } from '../geometry.ts';
import { composeTRS, type Vec3 } from '../math.ts';
import { material, type Scene } from '../types.ts';

/** Emissive sparkles per scene: enough that most 64² training crops hold a few. */
const SPARKLES = 40;
/** Polished metal beads per scene. */
const BEADS = 6;
/** Emitted radiance range (linear, white = 1), drawn log-uniformly. */
const RADIANCE = { min: 8, max: 250 };
/** Sparkle radius range in metres, from sub-pixel to a few render pixels at the focus. */
const RADIUS = { min: 0.015, max: 0.07 };

/** `scene` with HDR sparkles and specular beads added (a new Scene; `scene` is not changed). */
export function withHighlights(scene: Scene, seed: number): Scene {
  const random = mulberry32((seed ^ 0x4d2b1e7) >>> 0);
  const range = (a: number, b: number) => a + (b - a) * random();
  const { center, radius } = scene.focus;
  const meshes = [...scene.meshes];
  const materials = [...scene.materials];
  const objects = [...scene.objects];
  const sphere = meshes.push(sphereMesh(1, 12, 6)) - 1;
  const bead = meshes.push(sphereMesh(1, 24, 12)) - 1;
  /** A point around the focus: within 0.8 of its radius, from the ground to 1.2 radii up. */
  const spot = (): Vec3 => {
    const angle = range(0, 2 * Math.PI);
    const distance = 0.8 * radius * Math.sqrt(random());
    return [
      center[0] + Math.cos(angle) * distance,
      Math.max(0.05, center[1] + range(-1, 1.2) * radius * 0.5),
      center[2] + Math.sin(angle) * distance,
    ];
  };
  for (let k = 0; k < SPARKLES; k++) {
    const radiance = RADIANCE.min * (RADIANCE.max / RADIANCE.min) ** random();
    const tint: Vec3 = [range(0.6, 1), range(0.6, 1), range(0.6, 1)];
    const emissive = tint.map((c) => c * radiance) as Vec3;
    const index = materials.push(material({ baseColor: [0, 0, 0, 1], emissive, unlit: true })) - 1;
    const size = range(RADIUS.min, RADIUS.max);
    const position = spot();
    // Half of them drift on a small circle (moving highlights are where history ghosts).
    const drift = random() < 0.5 ? range(0.2, 1.5) : 0;
    const speed = range(0.5, 2);
    const phase = range(0, 2 * Math.PI);
    objects.push({
      mesh: sphere,
      material: index,
      transform: (t) =>
        composeTRS(
          [
            position[0] + drift * Math.cos(phase + speed * t),
            position[1],
            position[2] + drift * Math.sin(phase + speed * t),
          ],
          [0, 0, 0, 1],
          [size, size, size],
        ),
    });
  }
  for (let k = 0; k < BEADS; k++) {
    const index =
      materials.push(
        material({
          baseColor: [range(0.8, 1), range(0.8, 1), range(0.8, 1), 1],
          metallic: 1,
          roughness: range(0.03, 0.08),
        }),
      ) - 1;
    const size = range(0.1, 0.3);
    const transform = composeTRS(spot(), [0, 0, 0, 1], [size, size, size]);
    objects.push({ mesh: bead, material: index, transform: () => transform });
  }
  return {
    ...scene,
    meshes,
    materials,
    objects,
    source: { ...(scene.source ?? {}), highlights: true },
  };
}
