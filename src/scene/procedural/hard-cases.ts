/**
 * Procedural scenes of the classes network v2 still failed on (issue 14, "More to learn from"):
 * - poles: a road between rows of thin poles, fence posts, railings and sagging cables, built
 *   along `focus.heading` for the `forward` path (sub-pixel wires streaming past the camera);
 * - runners: skinned figures whose arms and legs swing fast (running, jumping jacks), skinned
 *   on the CPU like glTF skins, so their motion vectors are exact;
 * - signs: text and UI-like detail (one-texel strokes, small glyphs, thin frames, glyphs built of
 *   thin boxes), static and moving (sliding, swinging and spinning panels);
 * - meadow: thousands of geometric grass blades bending in gusts of wind (per-vertex sway as a
 *   skin of height shears) and alpha-tested leafy bushes whose branches sway (per object).
 * Everything that moves moves its geometry (object transforms or skins), never its texture
 * coordinates: motion vectors come from the rasterizer's current and previous transforms.
 */
import { boxMesh, mergeMeshes, planeMesh, sphereMesh, transformMesh } from '../geometry.ts';
import { axisAngle, composeTRS, multiply, type Mat4, type Vec3 } from '../math.ts';
import type { Mesh, Scene } from '../types.ts';
import { fixed, FLOOR, SceneBuilder } from './builder.ts';
import { bladeTexture, textTexture, uiTexture } from './detail-textures.ts';
import {
  circling,
  heightShear,
  limbTube,
  mergeSkinned,
  rigidPart,
  rotateAbout,
  saggingWire,
  wire,
  type SkinnedPart,
} from './parts.ts';
import { checkerTexture, leafTexture, stripesTexture } from './textures.ts';
import { HERD_SCENES } from './herd.ts';

/** Half the length of the poles scene's road (metres, either way from the centre). */
const ROAD_HALF_LENGTH = 150;

/**
 * Poles: telegraph poles with sagging cables on both sides of a road along z, a wire fence of thin
 * posts on one side and a railing of thin balusters on the other, cables crossing overhead, two
 * cars. Wire radii are 3–12 mm, posts and balusters 8–30 mm: below a pixel at the training and
 * validation render sizes beyond a couple of metres.
 */
function poles(seed: number): Scene {
  const b = new SceneBuilder('poles', seed, {
    center: [0, 1.6, 0],
    radius: 10,
    heading: [0, 0, 1],
  });
  b.scene.shadowExtent = 40;
  const grass = b.texture(checkerTexture(32, [0.2, 0.3, 0.1], [0.16, 0.24, 0.08]));
  b.skyAndGround({ baseColorTexture: grass, roughness: 0.95 }, 400);
  const L = ROAD_HALF_LENGTH;
  const roadTexture = b.texture(stripesTexture(2, [0.09, 0.09, 0.1], [0.07, 0.07, 0.08]));
  b.object(
    b.mesh(planeMesh(7, 2 * L, [1, L / 4])),
    b.material({ baseColorTexture: roadTexture, roughness: 0.85 }),
    fixed([0, 0.01, 0], FLOOR),
  );
  // Dashed centre line: thin (8 cm) paint strips.
  const dashes: Mesh[] = [];
  for (let z = -L; z < L; z += 6) {
    dashes.push(transformMesh(planeMesh(0.08, 3), composeTRS([0, 0.02, z], FLOOR, [1, 1, 1])));
  }
  b.object(
    b.mesh(mergeMeshes(dashes)),
    b.material({ baseColor: [0.85, 0.85, 0.8, 1], roughness: 0.6 }),
    fixed([0, 0, 0]),
  );

  const wood = b.material({ baseColor: [0.28, 0.2, 0.13, 1], roughness: 0.85 });
  const steel = b.material({ baseColor: [0.55, 0.56, 0.58, 1], metallic: 1, roughness: 0.35 });
  const cable = b.material({ baseColor: [0.03, 0.03, 0.03, 1], metallic: 1, roughness: 0.4 });

  // Telegraph poles on both sides, cables sagging between them.
  const spacing = b.range(12, 20);
  const poleHeight = b.range(6.5, 8.5);
  const poleRadius = b.range(0.07, 0.11);
  const cableRadius = b.range(0.006, 0.012);
  const cables = 3 + Math.floor(b.rand() * 3);
  const poleParts: Mesh[] = [];
  const cableParts: Mesh[] = [];
  for (const side of [-1, 1]) {
    const x = side * b.range(5, 6.5);
    const shift = b.range(0, spacing);
    const tops: Vec3[][] = [];
    for (let z = -L + shift; z <= L; z += spacing) {
      poleParts.push(wire([x, 0, z], [x, poleHeight, z], poleRadius, 8));
      poleParts.push(
        transformMesh(
          boxMesh([1.6, 0.08, 0.08]),
          composeTRS([x, poleHeight - 0.3, z], [0, 0, 0, 1], [1, 1, 1]),
        ),
      );
      tops.push(
        Array.from({ length: cables }, (_, k): Vec3 => [
          x - 0.7 + (1.4 * k) / (cables - 1),
          poleHeight - 0.25,
          z,
        ]),
      );
    }
    for (let p = 0; p + 1 < tops.length; p++) {
      for (let k = 0; k < cables; k++) {
        cableParts.push(
          ...saggingWire(tops[p]![k]!, tops[p + 1]![k]!, b.range(0.3, 0.7), cableRadius),
        );
      }
    }
  }
  // Cables crossing the road overhead.
  const crossings = b.range(18, 30);
  for (let z = -L + b.range(0, crossings); z <= L; z += crossings) {
    const h = b.range(5.5, 7);
    cableParts.push(
      ...saggingWire([-7, h, z], [7, h + b.range(-0.5, 0.5), z + b.range(-3, 3)], 0.4, cableRadius),
    );
  }
  b.object(b.mesh(mergeMeshes(poleParts)), wood, fixed([0, 0, 0]));
  b.object(b.mesh(mergeMeshes(cableParts)), cable, fixed([0, 0, 0]));

  // A wire fence on one side: thin posts and three or four wires.
  const fenceSide = b.rand() < 0.5 ? -1 : 1;
  const fenceX = fenceSide * b.range(3.6, 4.2);
  const postSpacing = b.range(1.8, 3);
  const postRadius = b.range(0.012, 0.03);
  const fenceWire = b.range(0.003, 0.006);
  const fenceParts: Mesh[] = [];
  const strands = 3 + Math.floor(b.rand() * 2);
  for (let z = -L; z + postSpacing <= L; z += postSpacing) {
    fenceParts.push(wire([fenceX, 0, z], [fenceX, 1.3, z], postRadius, 6));
    for (let k = 0; k < strands; k++) {
      const y = 0.35 + (0.9 * k) / (strands - 1);
      fenceParts.push(wire([fenceX, y, z], [fenceX, y, z + postSpacing], fenceWire, 4));
    }
  }
  b.object(b.mesh(mergeMeshes(fenceParts)), steel, fixed([0, 0, 0]));

  // A railing on the other side along a stretch around the centre: dense thin balusters.
  const railX = -fenceSide * b.range(3.6, 4.2);
  const baluster = b.range(0.12, 0.2);
  const balusterRadius = b.range(0.008, 0.015);
  const railParts: Mesh[] = [];
  const railStart = -b.range(30, 50);
  const railEnd = b.range(30, 50);
  for (let z = railStart; z <= railEnd; z += baluster) {
    railParts.push(wire([railX, 0, z], [railX, 1.05, z], balusterRadius, 4));
  }
  railParts.push(wire([railX, 1.05, railStart], [railX, 1.05, railEnd], 0.03, 6));
  railParts.push(wire([railX, 0.1, railStart], [railX, 0.1, railEnd], 0.02, 6));
  const paint = b.material({
    baseColor: [b.range(0.6, 0.95), b.range(0.6, 0.95), b.range(0.6, 0.95), 1],
    roughness: 0.4,
  });
  b.object(b.mesh(mergeMeshes(railParts)), paint, fixed([0, 0, 0]));

  // Street lamps: thin poles with a thin arm over the road and a bright lamp.
  const lampParts: Mesh[] = [];
  const lampBulbs: Mesh[] = [];
  const lampSpacing = b.range(25, 40);
  for (let z = -L + b.range(0, lampSpacing); z <= L; z += lampSpacing) {
    const x = fenceSide * 3.3;
    lampParts.push(wire([x, 0, z], [x, 5, z], 0.04, 6));
    lampParts.push(wire([x, 5, z], [x - fenceSide * 1.8, 5.3, z], 0.025, 6));
    lampBulbs.push(
      transformMesh(
        sphereMesh(0.09, 10, 5),
        composeTRS([x - fenceSide * 1.8, 5.2, z], [0, 0, 0, 1], [1, 1, 1]),
      ),
    );
  }
  b.object(b.mesh(mergeMeshes(lampParts)), steel, fixed([0, 0, 0]));
  b.object(
    b.mesh(mergeMeshes(lampBulbs)),
    b.material({ baseColor: [0, 0, 0, 1], emissive: [30, 26, 18], unlit: true }),
    fixed([0, 0, 0]),
  );

  // Two cars on the road, one each way (no wrap-around: no teleport in any sequence).
  const car = b.mesh(boxMesh([1.7, 1.3, 4]));
  for (const lane of [-1, 1]) {
    const m = b.material({
      baseColor: [b.range(0.1, 0.9), b.range(0.1, 0.9), b.range(0.1, 0.9), 1],
      metallic: 0.7,
      roughness: 0.3,
    });
    const speed = b.range(8, 16) * lane;
    const z0 = b.range(-40, 40);
    b.object(car, m, (t) =>
      composeTRS([-lane * 1.7, 0.66, z0 + speed * t], [0, 0, 0, 1], [1, 1, 1]),
    );
  }
  b.scene.defaultPath = 'forward';
  return b.scene;
}

/** The joints of a runner's skin. */
const JOINT = {
  root: 0,
  armL: 1,
  foreL: 2,
  armR: 3,
  foreR: 4,
  thighL: 5,
  shinL: 6,
  thighR: 7,
  shinR: 8,
};

const SHOULDER_Y = 1.45;
const HIP_Y = 0.95;

/** A figure 1.8 m tall facing +z, feet at y = 0, skinned on nine joints (JOINT). */
function figureMesh(build: number): Mesh {
  const w = 0.16 + 0.04 * build;
  const parts: SkinnedPart[] = [
    rigidPart(
      transformMesh(
        boxMesh([2 * w + 0.04, 0.55, 0.2]),
        composeTRS([0, 1.22, 0], [0, 0, 0, 1], [1, 1, 1]),
      ),
      JOINT.root,
    ),
    rigidPart(
      transformMesh(sphereMesh(0.11, 12, 8), composeTRS([0, 1.64, 0], [0, 0, 0, 1], [1, 1, 1])),
      JOINT.root,
    ),
    rigidPart(
      transformMesh(
        boxMesh([2 * w - 0.06, 0.14, 0.18]),
        composeTRS([0, HIP_Y, 0], [0, 0, 0, 1], [1, 1, 1]),
      ),
      JOINT.root,
    ),
  ];
  for (const [side, arm, fore, thigh, shin] of [
    [1, JOINT.armL, JOINT.foreL, JOINT.thighL, JOINT.shinL],
    [-1, JOINT.armR, JOINT.foreR, JOINT.thighR, JOINT.shinR],
  ] as const) {
    parts.push(
      limbTube([side * (w + 0.05), SHOULDER_Y, 0], 0.62, 0.045, 0.03, {
        parent: JOINT.root,
        upper: arm,
        lower: fore,
        split: 0.5,
      }),
    );
    parts.push(
      rigidPart(
        transformMesh(
          sphereMesh(0.045, 8, 5),
          composeTRS([side * (w + 0.05), SHOULDER_Y - 0.66, 0], [0, 0, 0, 1], [1, 1, 1]),
        ),
        fore,
      ),
    );
    parts.push(
      limbTube([side * 0.1, HIP_Y, 0], 0.9, 0.07, 0.04, {
        parent: JOINT.root,
        upper: thigh,
        lower: shin,
        split: 0.5,
      }),
    );
    parts.push(
      rigidPart(
        transformMesh(
          boxMesh([0.1, 0.07, 0.24]),
          composeTRS([side * 0.1, 0.035, 0.06], [0, 0, 0, 1], [1, 1, 1]),
        ),
        shin,
      ),
    );
  }
  return mergeSkinned(parts);
}

/** How a figure moves its limbs. */
interface Gait {
  kind: 'run' | 'jacks';
  /** Cycles per second. */
  rate: number;
  /** Swing amplitude (radians) of arms and legs. */
  arms: number;
  legs: number;
  phase: number;
}

/** The joint matrices of a figure (mesh space → object space) at time t. */
function figurePose(gait: Gait, w: number, t: number): Mat4[] {
  const phi = 2 * Math.PI * gait.rate * t + gait.phase;
  const s = Math.sin(phi);
  const bounce =
    gait.kind === 'run' ? 0.06 * Math.abs(Math.cos(phi)) : 0.12 * Math.max(0, Math.sin(2 * phi));
  const lean = gait.kind === 'run' ? 0.15 : 0;
  const root = multiply(
    composeTRS([0, bounce, 0], [0, 0, 0, 1], [1, 1, 1]),
    rotateAbout([0, HIP_Y, 0], [1, 0, 0], lean),
  );
  const joints: Mat4[] = new Array(9);
  joints[JOINT.root] = root;
  for (const side of [1, -1]) {
    const left = side === 1;
    const sx = left ? s : -s;
    const shoulder: Vec3 = [side * (w + 0.05), SHOULDER_Y, 0];
    const elbow: Vec3 = [shoulder[0], SHOULDER_Y - 0.31, 0];
    const hip: Vec3 = [side * 0.1, HIP_Y, 0];
    const knee: Vec3 = [hip[0], HIP_Y - 0.45, 0];
    let arm: Mat4;
    let fore: Mat4;
    let thigh: Mat4;
    let shin: Mat4;
    if (gait.kind === 'run') {
      // Arms swing against the legs; elbows and knees bend most as the limb swings back.
      arm = multiply(root, rotateAbout(shoulder, [1, 0, 0], gait.arms * sx));
      fore = multiply(arm, rotateAbout(elbow, [1, 0, 0], -(0.6 + 0.7 * (0.5 + 0.5 * sx))));
      thigh = multiply(root, rotateAbout(hip, [1, 0, 0], -gait.legs * sx));
      shin = multiply(thigh, rotateAbout(knee, [1, 0, 0], 0.2 + 1.3 * Math.max(0, sx)));
    } else {
      // Jumping jacks: arms sweep up sideways over the head, legs open and close.
      const open = 0.5 - 0.5 * Math.cos(phi);
      arm = multiply(root, rotateAbout(shoulder, [0, 0, 1], side * gait.arms * open));
      fore = multiply(arm, rotateAbout(elbow, [0, 0, 1], side * 0.4 * open));
      thigh = multiply(root, rotateAbout(hip, [0, 0, 1], side * gait.legs * open));
      shin = multiply(thigh, rotateAbout(knee, [1, 0, 0], 0.3 * open));
    }
    joints[left ? JOINT.armL : JOINT.armR] = arm;
    joints[left ? JOINT.foreL : JOINT.foreR] = fore;
    joints[left ? JOINT.thighL : JOINT.thighR] = thigh;
    joints[left ? JOINT.shinL : JOINT.shinR] = shin;
  }
  return joints;
}

/**
 * Runners: six to eight skinned figures, most running around circles at 2.5–6 m/s with limbs
 * swinging at 1.4–2.2 strides per second, some doing jumping jacks in place (arms sweeping
 * ~2.5 rad three times a second), between crates and a pillar (disocclusion). Thin limbs
 * (3–7 cm) moving several pixels a frame are where v2 ghosted on the Fox.
 */
function runners(seed: number): Scene {
  const b = new SceneBuilder('runners', seed, { center: [0, 1, 0], radius: 5 });
  const floor = b.texture(checkerTexture(32, [0.7, 0.7, 0.68], [0.25, 0.25, 0.27]));
  b.skyAndGround({ baseColorTexture: floor, roughness: 0.7 });
  const stripes = b.texture(stripesTexture(16, [0.9, 0.9, 0.9], [0.1, 0.1, 0.12]));
  const count = 6 + Math.floor(b.rand() * 3);
  for (let k = 0; k < count; k++) {
    const build = b.rand();
    const w = 0.16 + 0.04 * build;
    const mesh = b.mesh(figureMesh(build));
    const clothes = b.material({
      baseColor: [b.range(0.2, 1), b.range(0.2, 1), b.range(0.2, 1), 1],
      ...(b.rand() < 0.5 ? { baseColorTexture: stripes } : {}),
      roughness: b.range(0.4, 0.8),
    });
    const jacks = k % 3 === 2;
    const gait: Gait = jacks
      ? {
          kind: 'jacks',
          rate: b.range(1.8, 3),
          arms: b.range(2.2, 2.8),
          legs: b.range(0.25, 0.4),
          phase: b.range(0, 6.28),
        }
      : {
          kind: 'run',
          rate: b.range(1.4, 2.2),
          arms: b.range(0.8, 1.2),
          legs: b.range(0.6, 0.9),
          phase: b.range(0, 6.28),
        };
    let transform: (t: number) => Mat4;
    if (jacks) {
      const at: Vec3 = [b.range(-3, 3), 0, b.range(-3, 3)];
      const spin = b.range(-0.6, 0.6);
      const yaw0 = b.range(0, 6.28);
      transform = (t) => composeTRS(at, axisAngle([0, 1, 0], yaw0 + spin * t), [1, 1, 1]);
    } else {
      const radius = b.range(1.5, 4.5);
      const speed = b.range(2.5, 6) / radius; // radians per second
      const dir = b.rand() < 0.5 ? -1 : 1;
      const a0 = b.range(0, 6.28);
      transform = circling(radius, speed, dir, a0);
    }
    b.scene.objects.push({
      mesh,
      material: clothes,
      transform,
      skin: (t) => figurePose(gait, w, t),
    });
  }
  const crate = b.material({ baseColor: [0.55, 0.4, 0.25, 1], roughness: 0.8 });
  for (let k = 0; k < 3; k++) {
    const s = b.range(0.6, 1.2);
    const r = b.range(0.5, 6);
    const a = b.range(0, 6.28);
    b.object(
      b.mesh(boxMesh([s, s, s])),
      crate,
      fixed([r * Math.cos(a), s / 2, r * Math.sin(a)], axisAngle([0, 1, 0], b.range(0, 3))),
    );
  }
  b.object(
    b.mesh(
      transformMesh(
        wire([0, 0, 0], [0, 3, 0], 0.25, 16),
        composeTRS([0, 0, 0], [0, 0, 0, 1], [1, 1, 1]),
      ),
    ),
    b.material({ baseColor: [0.8, 0.78, 0.75, 1], roughness: 0.5 }),
    fixed([b.range(-1, 1), 0, b.range(-1, 1)]),
  );
  return b.scene;
}

/** A glyph of thin boxes: strokes of a random 3×5 pattern, `stroke` thick, `cell` apart. */
function boxGlyph(rand: () => number, at: Vec3, cell: number, stroke: number): Mesh[] {
  const parts: Mesh[] = [];
  const on = Array.from({ length: 15 }, () => rand() < 0.5);
  on[0] = on[3] = on[6] = on[9] = on[12] = true; // a stem: letters have one
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 3; x++) {
      if (!on[y * 3 + x]) continue;
      // Horizontal stroke to the right neighbour, vertical stroke to the one below.
      const p: Vec3 = [at[0] + x * cell, at[1] - y * cell, at[2]];
      if (x < 2 && on[y * 3 + x + 1])
        parts.push(
          transformMesh(
            boxMesh([cell + stroke, stroke, stroke]),
            composeTRS([p[0] + cell / 2, p[1], p[2]], [0, 0, 0, 1], [1, 1, 1]),
          ),
        );
      if (y < 4 && on[(y + 1) * 3 + x])
        parts.push(
          transformMesh(
            boxMesh([stroke, cell + stroke, stroke]),
            composeTRS([p[0], p[1] - cell / 2, p[2]], [0, 0, 0, 1], [1, 1, 1]),
          ),
        );
      parts.push(
        transformMesh(boxMesh([stroke, stroke, stroke]), composeTRS(p, [0, 0, 0, 1], [1, 1, 1])),
      );
    }
  }
  return parts;
}

/** A word of `n` box glyphs starting at `at`, along +x. */
function boxWord(rand: () => number, at: Vec3, n: number, cell: number, stroke: number): Mesh {
  const parts: Mesh[] = [];
  for (let k = 0; k < n; k++)
    parts.push(...boxGlyph(rand, [at[0] + k * cell * 3.2, at[1], at[2]], cell, stroke));
  return mergeMeshes(parts);
}

/**
 * Signs: billboards of small text (one- and two-texel strokes), glowing UI panels (thin frames,
 * grids, gauges, text), lettering built of thin boxes; a ticker sliding back and forth, a screen
 * swinging, a lettered cube spinning, a text panel drifting up and down.
 */
function signs(seed: number): Scene {
  const b = new SceneBuilder('signs', seed, { center: [0, 1.5, 0], radius: 4.5 });
  const ground = b.texture(checkerTexture(16, [0.5, 0.5, 0.5], [0.4, 0.4, 0.42]));
  b.skyAndGround({ baseColorTexture: ground, roughness: 0.8 });
  const paper: [number, number, number] = [0.85, 0.84, 0.8];
  const ink: [number, number, number] = [0.02, 0.02, 0.03];
  const small = b.texture(textTexture(seed * 7 + 1, 8, paper, ink));
  const medium = b.texture(textTexture(seed * 7 + 2, 16, ink, paper));
  const ui = b.texture(uiTexture(seed, [0.75, 0.95, 1], [1, 0.55, 0.1], [0.01, 0.02, 0.04]));
  const post = b.material({ baseColor: [0.4, 0.4, 0.42, 1], metallic: 1, roughness: 0.4 });
  const textMaterial = (texture: number) =>
    b.material({ baseColorTexture: texture, roughness: 0.6 });
  const screenMaterial = b.material({
    baseColor: [2.2, 2.2, 2.2, 1],
    baseColorTexture: ui,
    unlit: true,
  });

  // Static billboards around the centre, facing it, on thin posts.
  for (let k = 0; k < 5; k++) {
    const a = (k / 5) * 2 * Math.PI + b.range(-0.3, 0.3);
    const r = b.range(2.5, 5);
    const w = b.range(1.6, 3);
    const h = w * b.range(0.5, 0.8);
    const y = b.range(1.2, 2.4);
    const facing = axisAngle([0, 1, 0], -a - Math.PI / 2);
    const texture = k % 3 === 0 ? medium : small;
    const panel = k === 4 ? screenMaterial : textMaterial(texture);
    const at: Vec3 = [r * Math.cos(a), y, r * Math.sin(a)];
    b.object(b.mesh(boxMesh([w, h, 0.05])), panel, fixed(at, facing));
    b.object(b.mesh(wire([0, 0, 0], [0, y - h / 2, 0], 0.03, 6)), post, fixed([at[0], 0, at[2]]));
  }
  // A ticker strip sliding back and forth (no wrap-around: motion vectors stay true).
  const tickerAt: Vec3 = [b.range(-1, 1), b.range(0.6, 1), b.range(-1, 1)];
  const tickerYaw = axisAngle([0, 1, 0], b.range(0, 6.28));
  const slide = b.range(1.5, 3);
  const ticker = b.mesh(boxMesh([4, 0.5, 0.04], 0.5));
  b.object(ticker, textMaterial(small), (t) =>
    multiply(
      composeTRS(tickerAt, tickerYaw, [1, 1, 1]),
      composeTRS([2 * Math.sin(slide * t), 0, 0], [0, 0, 0, 1], [1, 1, 1]),
    ),
  );
  // A UI screen swinging on its post.
  const swingAt: Vec3 = [b.range(-2, 2), 2.2, b.range(-2, 2)];
  const swingRate = b.range(2, 4);
  const swing0 = b.range(0, 6.28);
  b.object(b.mesh(boxMesh([1.6, 1.0, 0.04])), screenMaterial, (t) =>
    composeTRS(swingAt, axisAngle([0, 1, 0], swing0 + 0.9 * Math.sin(swingRate * t)), [1, 1, 1]),
  );
  b.object(b.mesh(wire([0, 0, 0], [0, 1.7, 0], 0.03, 6)), post, fixed([swingAt[0], 0, swingAt[2]]));
  // A lettered cube spinning.
  const cubeAt: Vec3 = [b.range(-2.5, 2.5), 0.5, b.range(-2.5, 2.5)];
  const spin = b.range(2, 4) * (b.rand() < 0.5 ? -1 : 1);
  b.object(b.mesh(boxMesh([1, 1, 1], 1)), textMaterial(medium), (t) =>
    composeTRS(cubeAt, axisAngle([0, 1, 0], spin * t), [1, 1, 1]),
  );
  // Lettering of thin boxes (2–4 cm strokes): one sign static, one word rising and falling.
  const rand = () => b.rand();
  const letters = b.material({ baseColor: [0.95, 0.9, 0.2, 1], roughness: 0.5, metallic: 0.3 });
  const wordAt: Vec3 = [b.range(-3, -1), 2.8, b.range(-3, -1)];
  b.object(
    b.mesh(boxWord(rand, [0, 0, 0], 6, 0.08, b.range(0.02, 0.04))),
    letters,
    fixed(wordAt, axisAngle([0, 1, 0], b.range(0, 6.28))),
  );
  const floatAt: Vec3 = [b.range(1, 3), 1.2, b.range(1, 3)];
  const floatYaw = axisAngle([0, 1, 0], b.range(0, 6.28));
  const bob = b.range(1.5, 3);
  b.object(b.mesh(boxWord(rand, [-0.6, 0, 0], 5, 0.06, 0.02)), letters, (t) =>
    composeTRS([floatAt[0], floatAt[1] + 0.5 * Math.sin(bob * t), floatAt[2]], floatYaw, [1, 1, 1]),
  );
  // A text panel drifting diagonally, in front of the others.
  const drift = b.range(1.5, 3);
  const driftAt: Vec3 = [b.range(-1, 1), 1.6, b.range(-1, 1)];
  b.object(b.mesh(boxMesh([1.2, 0.8, 0.03])), textMaterial(small), (t) =>
    composeTRS(
      [
        driftAt[0] + 1.5 * Math.sin(drift * t),
        driftAt[1] + 0.4 * Math.sin(1.7 * drift * t),
        driftAt[2],
      ],
      axisAngle([0, 1, 0], 0.3 * Math.sin(drift * t)),
      [1, 1, 1],
    ),
  );
  return b.scene;
}

/** The wind's bend of grass at (x, z) and time t: a height shear (sx, sz). */
type Wind = (x: number, z: number, t: number) => [number, number];

function makeWind(b: SceneBuilder): Wind {
  const angle = b.range(0, 6.28);
  const [dx, dz] = [Math.cos(angle), Math.sin(angle)];
  const strength = b.range(0.35, 0.6);
  const rate = b.range(1.2, 2.4) * 2 * Math.PI; // radians per second
  const wavelength = b.range(2, 5);
  const gust = b.range(0, 6.28);
  return (x, z, t) => {
    const along = x * dx + z * dz;
    const across = -x * dz + z * dx;
    const envelope = 0.6 + 0.4 * Math.sin(0.8 * t + gust + along * 0.2);
    const wave = Math.sin(rate * t - (2 * Math.PI * along) / wavelength);
    const flutter = Math.sin(2.7 * rate * t + across * 3.1 + along * 1.7);
    const s = strength * envelope * (0.5 + 0.5 * wave) + 0.35 * strength * flutter;
    const side = 0.3 * strength * Math.sin(1.3 * rate * t + across * 1.3);
    return [s * dx - side * dz, s * dz + side * dx];
  };
}

/** Grass patch size (metres) and wind cells per side of a patch. */
const PATCH = 5;
const CELLS = 4;

/**
 * A patch of `blades` tapered blades (2 triangles each with 5 vertices) on a PATCH-metre square,
 * roots at y = 0, skinned on 1 + CELLS² joints: joint 0 is the ground (identity), joint 1 + c a
 * height shear of wind cell c. A vertex at height y of a blade of height H weighs y / H on its
 * cell's shear: the blade bends along a parabola and its tip moves most.
 */
function grassPatch(rand: () => number, blades: number): Mesh {
  const positions: number[] = [];
  const normals: number[] = [];
  const uvs: number[] = [];
  const tangents: number[] = [];
  const indices: number[] = [];
  const joints: number[] = [];
  const weights: number[] = [];
  for (let k = 0; k < blades; k++) {
    const x = rand() * PATCH;
    const z = rand() * PATCH;
    const h = 0.25 + 0.6 * rand() * rand() + 0.2 * rand();
    const w = 0.008 + 0.014 * rand();
    const yaw = rand() * Math.PI;
    const lean = (rand() - 0.5) * 0.3;
    const [cx, cz] = [Math.cos(yaw), Math.sin(yaw)];
    const [nx, nz] = [-cz, cx];
    const cell =
      1 +
      Math.min(CELLS - 1, Math.floor((x / PATCH) * CELLS)) * CELLS +
      Math.min(CELLS - 1, Math.floor((z / PATCH) * CELLS));
    const base = positions.length / 3;
    // Rows at 0, ½ and the tip: widths w, 0.7 w, 0.
    const rows: Array<[number, number]> = [
      [0, w],
      [0.5, 0.7 * w],
    ];
    for (const [f, half] of rows) {
      const y = f * h;
      const off = lean * f * f * h;
      for (const s of [-1, 1]) {
        positions.push(x + cx * half * s + nx * off, y, z + cz * half * s + nz * off);
        normals.push(nx, 0.3, nz);
        uvs.push(s < 0 ? 0 : 1, 1 - f);
        tangents.push(cx, 0, cz, 1);
        joints.push(0, cell, 0, 0);
        weights.push(1 - f, f, 0, 0);
      }
    }
    positions.push(x + nx * lean * h, h, z + nz * lean * h);
    normals.push(nx, 0.3, nz);
    uvs.push(0.5, 0);
    tangents.push(cx, 0, cz, 1);
    joints.push(0, cell, 0, 0);
    weights.push(0, 1, 0, 0);
    indices.push(base, base + 1, base + 3, base, base + 3, base + 2, base + 2, base + 3, base + 4);
  }
  const n = normals.length / 3;
  for (let i = 0; i < n; i++) {
    const l = Math.hypot(normals[i * 3]!, normals[i * 3 + 1]!, normals[i * 3 + 2]!);
    for (let c = 0; c < 3; c++) normals[i * 3 + c] = normals[i * 3 + c]! / l;
  }
  return {
    positions: new Float32Array(positions),
    normals: new Float32Array(normals),
    uvs: new Float32Array(uvs),
    tangents: new Float32Array(tangents),
    indices: new Uint32Array(indices),
    joints: new Uint32Array(joints),
    weights: new Float32Array(weights),
  };
}

/**
 * Meadow: a strip of grass patches (about 9,000 blades 8–22 mm wide) along `focus.heading` (x)
 * bending in travelling gusts, alpha-tested leafy bushes beside it whose branches sway, a few
 * tall reeds. Every blade vertex has its own motion (a skin), so the motion vectors vary along
 * each blade.
 */
function meadow(seed: number): Scene {
  const b = new SceneBuilder('meadow', seed, { center: [0, 1, 0], radius: 6, heading: [1, 0, 0] });
  b.scene.shadowExtent = 20;
  const soil = b.texture(checkerTexture(32, [0.16, 0.22, 0.07], [0.12, 0.18, 0.05]));
  b.skyAndGround({ baseColorTexture: soil, roughness: 0.95 });
  const wind = makeWind(b);
  const bladeMaterials = [
    b.material({
      baseColorTexture: b.texture(bladeTexture([0.35, 0.55, 0.12], [0.06, 0.14, 0.03])),
      doubleSided: true,
      roughness: 0.6,
    }),
    b.material({
      baseColorTexture: b.texture(bladeTexture([0.6, 0.6, 0.25], [0.12, 0.16, 0.05])),
      doubleSided: true,
      roughness: 0.6,
    }),
  ];
  const rand = () => b.rand();
  for (let px = -4; px < 6; px++) {
    for (let pz = -2; pz < 2; pz++) {
      const origin: Vec3 = [px * PATCH, 0, pz * PATCH];
      const near = Math.abs(pz + 0.5) < 1 && px >= -2 && px < 4;
      const mesh = b.mesh(grassPatch(rand, near ? 450 : 150));
      const transform = composeTRS(origin, [0, 0, 0, 1], [1, 1, 1]);
      const cellCentre = (c: number): [number, number] => [
        origin[0] + (Math.floor(c / CELLS) + 0.5) * (PATCH / CELLS),
        origin[2] + ((c % CELLS) + 0.5) * (PATCH / CELLS),
      ];
      b.scene.objects.push({
        mesh,
        material: bladeMaterials[(px + pz + 8) % 2]!,
        transform: () => transform,
        skin: (t) => {
          const joints: Mat4[] = [heightShear(0, 0)];
          for (let c = 0; c < CELLS * CELLS; c++) {
            const [wx, wz] = cellCentre(c);
            const [sx, sz] = wind(wx, wz, t);
            joints.push(heightShear(sx, sz));
          }
          return joints;
        },
      });
    }
  }
  // Bushes of leaf cards beside the strip: branches sway about their base, each on its own.
  const leaves = b.texture(leafTexture(seed + 3));
  const leafMaterial = b.material({
    baseColorTexture: leaves,
    alphaMode: 'mask',
    alphaCutoff: 0.5,
    doubleSided: true,
    roughness: 0.5,
  });
  for (let k = 0; k < 8; k++) {
    const side = k % 2 === 0 ? -1 : 1;
    const at: Vec3 = [b.range(-12, 20), 0, side * b.range(2.5, 7)];
    const branches = 3 + Math.floor(b.rand() * 3);
    for (let j = 0; j < branches; j++) {
      const cards: Mesh[] = [];
      const tilt = axisAngle([b.range(-1, 1), 0, b.range(-1, 1)], b.range(0.2, 0.6));
      for (let c = 0; c < 10; c++) {
        const y = b.range(0.4, 1.6);
        const p: Vec3 = [b.range(-0.4, 0.4), y, b.range(-0.4, 0.4)];
        cards.push(
          transformMesh(
            planeMesh(0.5, 0.5),
            composeTRS(
              p,
              axisAngle([b.range(-1, 1), b.range(-1, 1), b.range(-1, 1)], b.range(0, 3.14)),
              [1, 1, 1],
            ),
          ),
        );
      }
      const base = composeTRS(at, tilt, [1, 1, 1]);
      const phase = b.range(0, 6.28);
      const amplitude = b.range(0.1, 0.2);
      b.object(b.mesh(mergeMeshes(cards)), leafMaterial, (t) => {
        const [sx, sz] = wind(at[0], at[2], t);
        return multiply(
          base,
          composeTRS(
            [0, 0, 0],
            axisAngle(
              [sz, 0, -sx].some((v) => v !== 0) ? [sz + 1e-6, 0, -sx] : [1, 0, 0],
              0.5 * Math.hypot(sx, sz) + amplitude * Math.sin(7 * t + phase),
            ),
            [1, 1, 1],
          ),
        );
      });
    }
  }
  // Tall reeds: thin stems, swaying as rigid bodies from their root.
  const reed = b.material({ baseColor: [0.45, 0.4, 0.2, 1], roughness: 0.7 });
  for (let k = 0; k < 24; k++) {
    const at: Vec3 = [b.range(-15, 25), 0, b.range(-8, 8)];
    const h = b.range(1.2, 2.2);
    const phase = b.range(0, 6.28);
    b.object(b.mesh(wire([0, 0, 0], [0, h, 0], b.range(0.004, 0.01), 4)), reed, (t) => {
      const [sx, sz] = wind(at[0], at[2], t);
      const bend = Math.hypot(sx, sz) * 0.6 + 0.05 * Math.sin(7 * t + phase);
      return composeTRS(at, axisAngle([sz + 1e-6, 0, -sx], bend), [1, 1, 1]);
    });
  }
  return b.scene;
}

/** The scenes of this module by name (registered in PROCEDURAL_SCENES). */
export const HARD_CASE_SCENES: Readonly<Record<string, (seed: number) => Scene>> = {
  poles,
  runners,
  signs,
  meadow,
  // Large animals over a bright sky (./herd.ts), added after the Fox's ghost (2026-12-05).
  ...HERD_SCENES,
};
