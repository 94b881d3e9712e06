/**
 * Herd: large four-legged animals (1.1–1.7 m long, flat colours like the glTF Fox) walking and
 * trotting around open ground in front of a bright sky, heads bobbing, tails swinging: large
 * moving silhouettes over a contrasting background. That is where a network that keeps the
 * unclamped history ghosts (the Fox, docs/QUALITY.md §4, 2026-12-05): the runners are small and
 * move over a checker floor, so training had little of it. Skinned on the CPU like glTF skins,
 * so the motion vectors are exact.
 */
import { boxMesh, sphereMesh, transformMesh } from '../geometry.ts';
import { composeTRS, multiply, type Mat4, type Vec3 } from '../math.ts';
import type { Mesh, Scene } from '../types.ts';
import { fixed, SceneBuilder } from './builder.ts';
import {
  circling,
  limbTube,
  mergeSkinned,
  rigidPart,
  rotateAbout,
  type SkinnedPart,
} from './parts.ts';

/** The joints of an animal's skin: root, head, tail, then upper and lower of four legs. */
const JOINT = { root: 0, head: 1, tail: 2, legs: 3 } as const;

/** Legs: front left, front right, hind left, hind right; x side, z end, gait phase offset. */
const LEGS = [
  { side: 1, end: 1, offset: 0 },
  { side: -1, end: 1, offset: Math.PI },
  { side: 1, end: -1, offset: Math.PI },
  { side: -1, end: -1, offset: 0 },
] as const;

/** An animal's proportions (metres), facing +z, feet at y = 0. */
interface Body {
  readonly length: number;
  readonly height: number;
  readonly width: number;
  /** Hip and shoulder height: the legs' length. */
  readonly leg: number;
}

const neckAt = (b: Body): Vec3 => [0, b.leg + 0.8 * b.height, 0.45 * b.length];
const tailAt = (b: Body): Vec3 => [0, b.leg + 0.75 * b.height, -0.5 * b.length];
const hipAt = (b: Body, leg: (typeof LEGS)[number]): Vec3 => [
  leg.side * 0.3 * b.width,
  b.leg + 0.15 * b.height,
  leg.end * 0.34 * b.length,
];

/** An animal skinned on 11 joints (JOINT): body, head and ears, tail, four two-part legs. */
function animalMesh(b: Body): Mesh {
  const place = (mesh: Mesh, at: Vec3, scale: Vec3 = [1, 1, 1]) =>
    transformMesh(mesh, composeTRS(at, [0, 0, 0, 1], scale));
  const cy = b.leg + 0.5 * b.height;
  const neck = neckAt(b);
  const headSize = 0.55 * b.height;
  const parts: SkinnedPart[] = [
    // The body: an ellipsoid, its length along z.
    rigidPart(
      place(sphereMesh(0.5, 16, 10), [0, cy, 0], [b.width, b.height, b.length]),
      JOINT.root,
    ),
    rigidPart(
      place(
        sphereMesh(0.5, 12, 8),
        [0, neck[1] + 0.35 * headSize, neck[2] + 0.2 * headSize],
        [0.8 * headSize, headSize, 1.3 * headSize],
      ),
      JOINT.head,
    ),
    // Snout and ears: small parts that move with the head.
    rigidPart(
      place(boxMesh([0.3 * headSize, 0.3 * headSize, 0.5 * headSize]), [
        0,
        neck[1] + 0.2 * headSize,
        neck[2] + 0.95 * headSize,
      ]),
      JOINT.head,
    ),
    ...[1, -1].map((side) =>
      rigidPart(
        place(boxMesh([0.12 * headSize, 0.45 * headSize, 0.06 * headSize]), [
          side * 0.25 * headSize,
          neck[1] + 1.0 * headSize,
          neck[2] + 0.1 * headSize,
        ]),
        JOINT.head,
      ),
    ),
    // A bushy tail: a tapered ellipsoid behind the body.
    rigidPart(
      place(
        sphereMesh(0.5, 10, 6),
        [0, tailAt(b)[1] - 0.1 * b.height, tailAt(b)[2] - 0.3 * b.length],
        [0.25 * b.width, 0.25 * b.height, 0.6 * b.length],
      ),
      JOINT.tail,
    ),
  ];
  LEGS.forEach((leg, k) =>
    parts.push(
      // From the hip down to the ground.
      limbTube(hipAt(b, leg), hipAt(b, leg)[1], 0.1 * b.width + 0.03, 0.03, {
        parent: JOINT.root,
        upper: JOINT.legs + 2 * k,
        lower: JOINT.legs + 2 * k + 1,
        split: 0.5,
      }),
    ),
  );
  return mergeSkinned(parts);
}

/** How an animal moves: strides per second, leg swing (radians), phase. */
interface Gait {
  readonly rate: number;
  readonly swing: number;
  readonly phase: number;
}

/** The joint matrices of an animal (mesh space → object space) at time t. */
function animalPose(b: Body, gait: Gait, t: number): Mat4[] {
  const phi = 2 * Math.PI * gait.rate * t + gait.phase;
  const root = composeTRS([0, 0.04 * Math.abs(Math.sin(phi)) * b.leg, 0], [0, 0, 0, 1], [1, 1, 1]);
  const joints: Mat4[] = new Array(JOINT.legs + 2 * LEGS.length);
  joints[JOINT.root] = root;
  joints[JOINT.head] = multiply(root, rotateAbout(neckAt(b), [1, 0, 0], 0.15 * Math.sin(2 * phi)));
  joints[JOINT.tail] = multiply(root, rotateAbout(tailAt(b), [0, 1, 0], 0.5 * Math.sin(phi)));
  LEGS.forEach((leg, k) => {
    const s = Math.sin(phi + leg.offset);
    const hip = hipAt(b, leg);
    const knee: Vec3 = [hip[0], 0.5 * hip[1], hip[2]];
    const upper = multiply(root, rotateAbout(hip, [1, 0, 0], gait.swing * s));
    joints[JOINT.legs + 2 * k] = upper;
    // The lower leg folds as it swings forward (lifted), straight while it carries the body.
    joints[JOINT.legs + 2 * k + 1] = multiply(
      upper,
      rotateAbout(knee, [1, 0, 0], -leg.end * 0.9 * Math.max(0, Math.cos(phi + leg.offset))),
    );
  });
  return joints;
}

/**
 * Herd: four to six animals circling at 1–4.5 m/s (walk to trot, 1–2.6 strides a second), two to
 * six metres from the centre, both ways round, plain coloured (rust, brown, black, white, grey)
 * over pale grass, the sky behind them from every path; two rocks for disocclusion.
 */
function herd(seed: number): Scene {
  const b = new SceneBuilder('herd', seed, { center: [0, 0.8, 0], radius: 6 });
  b.skyAndGround({ baseColor: [0.62, 0.68, 0.45, 1], roughness: 0.9 });
  const coats: [number, number, number][] = [
    [0.75, 0.36, 0.12],
    [0.42, 0.26, 0.14],
    [0.06, 0.05, 0.05],
    [0.92, 0.9, 0.86],
    [0.5, 0.5, 0.52],
  ];
  const count = 4 + Math.floor(b.rand() * 3);
  for (let k = 0; k < count; k++) {
    const length = b.range(1.1, 1.7);
    const body: Body = {
      length,
      height: length * b.range(0.32, 0.42),
      width: length * b.range(0.28, 0.36),
      leg: length * b.range(0.35, 0.5),
    };
    const coat = coats[Math.floor(b.rand() * coats.length)]!;
    const material = b.material({ baseColor: [...coat, 1], roughness: b.range(0.6, 0.9) });
    const speed = b.range(1, 4.5);
    const gait: Gait = {
      rate: 0.6 * speed,
      swing: b.range(0.35, 0.6),
      phase: b.range(0, 2 * Math.PI),
    };
    const radius = b.range(2, 6);
    const dir = b.rand() < 0.5 ? -1 : 1;
    const a0 = b.range(0, 2 * Math.PI);
    b.scene.objects.push({
      mesh: b.mesh(animalMesh(body)),
      material,
      transform: circling(radius, speed / radius, dir, a0),
      skin: (t) => animalPose(body, gait, t),
    });
  }
  const rock = b.material({ baseColor: [0.45, 0.43, 0.4, 1], roughness: 0.95 });
  for (let k = 0; k < 2; k++) {
    const s = b.range(0.5, 1.1);
    const r = b.range(1, 7);
    const a = b.range(0, 2 * Math.PI);
    b.object(
      b.mesh(
        transformMesh(sphereMesh(s, 10, 6), composeTRS([0, 0, 0], [0, 0, 0, 1], [1.3, 0.7, 1])),
      ),
      rock,
      fixed([r * Math.cos(a), 0.3 * s, r * Math.sin(a)]),
    );
  }
  return b.scene;
}

export const HERD_SCENES: Readonly<Record<string, (seed: number) => Scene>> = { herd };
