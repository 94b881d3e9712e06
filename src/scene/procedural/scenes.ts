/**
 * Built-in procedural scenes. Each is small (renders quickly) and holds the cases that break
 * upscalers; a seed chooses layout, materials and motion.
 * - city: facades with text-like glyphs, road stripes, power lines (thin wires), moving cars,
 *   shiny spheres (small HDR highlights), emissive lamps.
 * - fence: alpha-masked grate and thin wires in front of a moiré-prone striped wall, with objects
 *   moving behind (disocclusion).
 * - foliage: trees of alpha-tested leaf cards swaying in the wind.
 * - particles: soft particles and glass panes (alpha blended, no motion vectors: reactive).
 * - mix: a bit of everything.
 * - poles, runners, signs, meadow, herd (hard-cases.ts, herd.ts): thin poles and wires for
 *   forward flight, skinned figures with fast limbs, text and UI detail, grass and bushes in
 *   wind, large animals over a bright sky.
 */
import { InputError } from '../../core/errors.ts';
import {
  boxMesh,
  crossQuadsMesh,
  cylinderMesh,
  mergeMeshes,
  planeMesh,
  sphereMesh,
  transformMesh,
} from '../geometry.ts';
import { axisAngle, composeTRS, multiply, vec3, type Vec3 } from '../math.ts';
import { HARD_CASE_SCENES } from './hard-cases.ts';
import { wire } from './parts.ts';
import type { Scene } from '../types.ts';
import { fixed, SceneBuilder } from './builder.ts';
import {
  brickNormalTexture,
  checkerTexture,
  glyphTexture,
  grateTexture,
  leafTexture,
  particleTexture,
  stripesTexture,
} from './textures.ts';

/** Poles with sagging wires between them, along x at depth z. */
function powerLine(b: SceneBuilder, z: number, x0: number, x1: number, height: number): void {
  const poleMaterial = b.material({ baseColor: [0.25, 0.2, 0.15, 1], roughness: 0.8 });
  const wireMaterial = b.material({
    baseColor: [0.05, 0.05, 0.05, 1],
    roughness: 0.35,
    metallic: 1,
  });
  const poles: number[] = [];
  for (let x = x0; x <= x1 + 1e-9; x += (x1 - x0) / 3) poles.push(x);
  const pole = b.mesh(
    mergeMeshes(
      poles.map((x) =>
        transformMesh(
          cylinderMesh(0.08, height, 8),
          composeTRS([x, 0, z], [0, 0, 0, 1], [1, 1, 1]),
        ),
      ),
    ),
  );
  b.object(pole, poleMaterial, fixed([0, 0, 0]));
  const wires = [];
  for (let k = 0; k < 3; k++) {
    for (let p = 0; p + 1 < poles.length; p++) {
      // Sagging catenary approximated by 8 straight pieces.
      const y = height - 0.2 - k * 0.25;
      for (let s = 0; s < 8; s++) {
        const point = (t: number): Vec3 => [
          poles[p]! + (poles[p + 1]! - poles[p]!) * t,
          y - 0.6 * 4 * t * (1 - t),
          z + (k - 1) * 0.05,
        ];
        wires.push(wire(point(s / 8), point((s + 1) / 8), 0.012));
      }
    }
  }
  b.object(b.mesh(mergeMeshes(wires)), wireMaterial, fixed([0, 0, 0]));
}

/** Shiny spheres with small bright highlights and an emissive lamp, some of them moving. */
function shinyThings(b: SceneBuilder, count: number, spread: number, moving: boolean): void {
  const sphere = b.mesh(sphereMesh(0.5, 32, 16));
  for (let k = 0; k < count; k++) {
    const metal = b.material({
      baseColor: [b.range(0.5, 1), b.range(0.5, 1), b.range(0.5, 1), 1],
      metallic: 1,
      roughness: b.range(0.08, 0.25),
    });
    const start: Vec3 = [b.range(-spread, spread), 0.5, b.range(-spread, spread)];
    const speed = moving ? b.range(0.5, 2) : 0;
    const phase = b.range(0, 2 * Math.PI);
    b.object(sphere, metal, (t) =>
      composeTRS(
        [start[0] + Math.sin(phase + t * speed) * 2, start[1], start[2]],
        [0, 0, 0, 1],
        [1, 1, 1],
      ),
    );
  }
  const lamp = b.material({ baseColor: [0, 0, 0, 1], emissive: [40, 30, 18], unlit: true });
  b.object(
    b.mesh(sphereMesh(0.08, 12, 6)),
    lamp,
    fixed([b.range(-spread, spread), 2.5, b.range(-spread, spread)]),
  );
}

function city(seed: number): Scene {
  // The street (x = 0, along z) is the line the forward path flies.
  const b = new SceneBuilder('city', seed, { center: [0, 3, 0], radius: 14, heading: [0, 0, 1] });
  const road = b.texture(stripesTexture(8, [0.12, 0.12, 0.12], [0.02, 0.02, 0.02]));
  b.skyAndGround({ baseColorTexture: road, roughness: 0.9 });
  const facades = [0, 1, 2].map((k) =>
    b.texture(glyphTexture(seed * 31 + k, [0.75, 0.72, 0.65], [0.05, 0.06, 0.1])),
  );
  const bricks = b.texture(brickNormalTexture(8));
  for (let gx = -2; gx <= 2; gx++) {
    for (let gz = -2; gz <= 2; gz++) {
      if (Math.abs(gx) <= 0 || b.rand() < 0.3) continue;
      const h = b.range(3, 12);
      const size: Vec3 = [b.range(2, 3.5), h, b.range(2, 3.5)];
      const m = b.material({
        baseColorTexture: facades[Math.floor(b.rand() * 3)]!,
        normalTexture: bricks,
        roughness: b.range(0.4, 0.8),
        uvScale: [0.5, 0.5],
      });
      b.object(b.mesh(boxMesh(size, 1)), m, fixed([gx * 5, h / 2, gz * 5]));
    }
  }
  powerLine(b, b.range(-1.5, 1.5), -12, 12, 6);
  // Cars driving along the street (x = 0 corridor): own motion, disocclusion behind them.
  const car = b.mesh(boxMesh([1.6, 1.2, 3.5]));
  for (let k = 0; k < 4; k++) {
    // Lettered vans: fine text that moves (it must stay legible under motion).
    const paint = b.material({
      baseColor: [b.range(0.1, 1), b.range(0.1, 1), b.range(0.1, 1), 1],
      baseColorTexture: facades[k % 3]!,
      metallic: 0.6,
      roughness: 0.25,
    });
    const lane = k % 2 === 0 ? -1 : 1;
    const speed = b.range(4, 9) * lane;
    const z0 = b.range(-20, 20);
    b.object(car, paint, (t) =>
      composeTRS([lane * 1.3, 0.6, ((z0 + speed * t + 60) % 40) - 20], [0, 0, 0, 1], [1, 1, 1]),
    );
  }
  shinyThings(b, 3, 6, false);
  return b.scene;
}

function fence(seed: number): Scene {
  const b = new SceneBuilder('fence', seed, { center: [0, 1.5, 0], radius: 5 });
  const checker = b.texture(checkerTexture(16, [0.8, 0.8, 0.8], [0.1, 0.1, 0.1]));
  b.skyAndGround({ baseColorTexture: checker, roughness: 0.7 });
  const stripes = b.texture(stripesTexture(64, [0.9, 0.3, 0.2], [0.95, 0.95, 0.9]));
  b.object(
    b.mesh(planeMesh(20, 5, [4, 1])),
    b.material({ baseColorTexture: stripes, roughness: 0.5 }),
    fixed([0, 2.5, -6]),
  );
  const grate = b.texture(grateTexture(10, b.range(0.15, 0.25), [0.6, 0.62, 0.65]));
  const fenceMaterial = b.material({
    baseColorTexture: grate,
    alphaMode: 'mask',
    alphaCutoff: 0.5,
    doubleSided: true,
    metallic: 0.8,
    roughness: 0.3,
  });
  const panel = b.mesh(planeMesh(3, 2));
  for (let k = -3; k <= 3; k++) b.object(panel, fenceMaterial, fixed([k * 3, 1, 0]));
  powerLine(b, -0.5, -9, 9, 3.5);
  // Objects passing behind the fence in both directions.
  const box = b.mesh(boxMesh([1, 1, 1]));
  const ball = b.mesh(sphereMesh(0.6, 24, 12));
  for (let k = 0; k < 3; k++) {
    const m = b.material({
      baseColor: [b.range(0.2, 1), b.range(0.2, 1), b.range(0.2, 1), 1],
      roughness: b.range(0.1, 0.6),
      metallic: b.rand() < 0.5 ? 1 : 0,
    });
    const speed = b.range(1.5, 4) * (k % 2 ? 1 : -1);
    const z = -1.5 - k * 1.2;
    const spin = axisAngle([0, 1, 0], 1);
    b.object(k === 1 ? ball : box, m, (t) =>
      composeTRS(
        [((speed * t + 30 + k * 7) % 20) - 10, 0.6, z],
        k === 1 ? [0, 0, 0, 1] : [...spin],
        [1, 1, 1],
      ),
    );
  }
  shinyThings(b, 2, 3, true);
  b.scene.defaultPath = 'pan';
  return b.scene;
}

/** A tree: trunk plus many leaf cards (one mesh), swaying as one rigid body. */
function tree(
  b: SceneBuilder,
  at: Vec3,
  leaves: number,
  leafMaterial: number,
  barkMaterial: number,
): void {
  const height = b.range(2.5, 4);
  b.object(b.mesh(cylinderMesh(0.12, height, 8)), barkMaterial, fixed(at));
  const cards = [];
  for (let k = 0; k < leaves; k++) {
    const dir = vec3.normalize([b.range(-1, 1), b.range(-0.6, 1), b.range(-1, 1)]);
    const pos = vec3.add([0, height, 0], vec3.scale(dir, b.range(0.3, 1.3)));
    const q = axisAngle([b.range(-1, 1), b.range(-1, 1), b.range(-1, 1)], b.range(0, Math.PI));
    cards.push(transformMesh(planeMesh(0.9, 0.9), composeTRS(pos, q, [1, 1, 1])));
  }
  const crown = b.mesh(mergeMeshes(cards));
  const phase = b.range(0, 6.28);
  const base = composeTRS(at, [0, 0, 0, 1], [1, 1, 1]);
  b.object(crown, leafMaterial, (t) =>
    multiply(
      base,
      composeTRS([0, 0, 0], axisAngle([1, 0, 0.3], 0.04 * Math.sin(1.7 * t + phase)), [1, 1, 1]),
    ),
  );
}

function foliage(seed: number): Scene {
  const b = new SceneBuilder('foliage', seed, { center: [0, 2, 0], radius: 8 });
  const grass = b.texture(checkerTexture(32, [0.12, 0.25, 0.06], [0.08, 0.18, 0.04]));
  b.skyAndGround({ baseColorTexture: grass, roughness: 0.95 });
  const leaves = b.texture(leafTexture(seed));
  const leafMaterial = b.material({
    baseColorTexture: leaves,
    alphaMode: 'mask',
    alphaCutoff: 0.5,
    doubleSided: true,
    roughness: 0.5,
  });
  const bark = b.material({
    baseColor: [0.3, 0.2, 0.12, 1],
    roughness: 0.9,
    normalTexture: b.texture(brickNormalTexture(16)),
  });
  for (let k = 0; k < 6; k++) tree(b, [b.range(-7, 7), 0, b.range(-7, 7)], 40, leafMaterial, bark);
  shinyThings(b, 2, 4, true);
  return b.scene;
}

/** Soft particles rising and swirling, plus glass panes: blended, no motion vectors (reactive). */
function addParticles(b: SceneBuilder, count: number, center: Vec3, spread: number): void {
  const particle = b.mesh(crossQuadsMesh(0.5));
  const texture = b.texture(particleTexture());
  const colors: Vec3[] = [
    [4, 1.6, 0.4],
    [0.6, 0.6, 0.65],
    [0.3, 1.5, 3],
  ];
  const materials = colors.map((emissive) =>
    b.material({
      baseColor: [0, 0, 0, 0.8],
      baseColorTexture: texture,
      emissive,
      alphaMode: 'blend',
      doubleSided: true,
      unlit: true,
    }),
  );
  for (let k = 0; k < count; k++) {
    const start: Vec3 = [
      center[0] + b.range(-spread, spread),
      center[1] + b.range(0, 2),
      center[2] + b.range(-spread, spread),
    ];
    const rise = b.range(0.3, 1.2);
    const swirl = b.range(0.5, 2);
    const phase = b.range(0, 6.28);
    const size = b.range(0.4, 1.2);
    b.object(particle, materials[k % 3]!, (t) => {
      const y = (rise * t + start[1]) % 4;
      return composeTRS(
        [
          start[0] + 0.4 * Math.sin(swirl * t + phase),
          center[1] + y,
          start[2] + 0.4 * Math.cos(swirl * t + phase),
        ],
        axisAngle([0, 1, 0], swirl * t),
        [size, size, size],
      );
    });
  }
  const glass = b.material({
    baseColor: [0.6, 0.8, 0.9, 0.3],
    roughness: 0.05,
    alphaMode: 'blend',
    doubleSided: true,
    reactive: 0.5,
  });
  b.object(
    b.mesh(planeMesh(3, 2)),
    glass,
    fixed([center[0] + spread, center[1] + 1, center[2]], axisAngle([0, 1, 0], 0.6)),
  );
}

function particles(seed: number): Scene {
  const b = new SceneBuilder('particles', seed, { center: [0, 1.5, 0], radius: 6 });
  b.skyAndGround({
    baseColorTexture: b.texture(checkerTexture(8, [0.5, 0.5, 0.5], [0.3, 0.3, 0.3])),
    roughness: 0.6,
  });
  b.object(
    b.mesh(boxMesh([1.5, 1.5, 1.5], 1)),
    b.material({
      baseColorTexture: b.texture(glyphTexture(seed, [0.8, 0.8, 0.8], [0.1, 0.1, 0.1])),
    }),
    fixed([1.5, 0.75, -1]),
  );
  shinyThings(b, 2, 3, true);
  addParticles(b, 60, [0, 0, 0], 2.5);
  return b.scene;
}

function mix(seed: number): Scene {
  const b = new SceneBuilder('mix', seed, { center: [0, 1.5, 0], radius: 9 });
  const checker = b.texture(checkerTexture(32, [0.85, 0.85, 0.85], [0.05, 0.05, 0.05]));
  b.skyAndGround({ baseColorTexture: checker, roughness: 0.6 });
  const text = b.texture(glyphTexture(seed, [0.9, 0.88, 0.8], [0.05, 0.05, 0.1]));
  b.object(
    b.mesh(boxMesh([4, 3, 0.4], 1)),
    b.material({ baseColorTexture: text, uvScale: [0.5, 0.5] }),
    fixed([-3, 1.5, -4]),
  );
  const grate = b.texture(grateTexture(10, 0.2, [0.5, 0.5, 0.55]));
  b.object(
    b.mesh(planeMesh(4, 2)),
    b.material({
      baseColorTexture: grate,
      alphaMode: 'mask',
      doubleSided: true,
      metallic: 0.8,
      roughness: 0.3,
    }),
    fixed([2.5, 1, -1]),
  );
  powerLine(b, -2, -8, 8, 4);
  const leaves = b.texture(leafTexture(seed + 1));
  const leafMaterial = b.material({
    baseColorTexture: leaves,
    alphaMode: 'mask',
    doubleSided: true,
  });
  const bark = b.material({ baseColor: [0.3, 0.2, 0.12, 1], roughness: 0.9 });
  tree(b, [5, 0, -4], 30, leafMaterial, bark);
  tree(b, [-6, 0, 2], 30, leafMaterial, bark);
  shinyThings(b, 3, 4, true);
  addParticles(b, 20, [0, 0, 2], 1.5);
  return b.scene;
}

/** Built-in procedural scenes by name. */
export const PROCEDURAL_SCENES: Readonly<Record<string, (seed: number) => Scene>> = {
  city,
  fence,
  foliage,
  particles,
  mix,
  // Network v3's failure classes (issue 14), after the first five so their entries come last.
  ...HARD_CASE_SCENES,
};

/** A built-in scene built with `seed`. */
export function proceduralScene(name: string, seed: number): Scene {
  const build = PROCEDURAL_SCENES[name];
  if (!build)
    throw new InputError(
      `unknown scene "${name}"; built-in scenes: ${Object.keys(PROCEDURAL_SCENES).join(', ')}`,
    );
  return build(seed);
}
