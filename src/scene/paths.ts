/**
 * Camera paths: where the camera is at each frame, and where the sequence cuts (reset). Every
 * path is a pure function of the frame index, so frames can be rendered in any order, and a seed
 * chooses its parameters (direction, speed, shake).
 */
import { mulberry32 } from '../core/random.ts';
import { InputError } from '../core/errors.ts';
import { vec3, type Vec3 } from './math.ts';

/** The camera pose at one frame. */
export interface CameraPose {
  position: Vec3;
  target: Vec3;
  /** True where the sequence cuts to another view (history must be dropped). */
  cut: boolean;
}

/** What a path knows about the scene and the sequence. */
export interface PathContext {
  /** Point of interest and scale of the scene; `heading`: the line the `forward` path flies. */
  focus: { center: Vec3; radius: number; heading?: Vec3 };
  frames: number;
  /** Frames per second (speeds are per second). */
  fps: number;
  seed: number;
}

/** A camera path: frame index → pose. */
export type CameraPath = (frame: number) => CameraPose;

/** Builds a path from its context. */
export type PathFactory = (context: PathContext) => CameraPath;

/**
 * The rate the instants of a path's events (the cut, the start of the fast turn) are laid out
 * at: the event is at frame `eventFrame` of this rate, i.e. at the same instant for every
 * rendering of the same path and duration (frames / fps), so a sequence rendered at 60 fps is the
 * in-between ground truth of the same path at 30 fps with half the frames. At 60 fps (the
 * renderer's default) these are the frames the paths always used.
 */
const EVENT_RATE = 60;

/** The frame of EVENT_RATE at `fraction` of a sequence of `frames` frames at `fps`. */
function eventFrame(frames: number, fps: number, fraction: number): number {
  return Math.floor(((frames * EVENT_RATE) / fps) * fraction + 1e-9);
}

/** Orbit around the focus at a seeded height, radius and angular speed. */
const orbit: PathFactory = ({ focus, fps, seed }) => {
  const rand = mulberry32(seed ^ 0x0b17);
  const start = rand() * 2 * Math.PI;
  const speed = (0.15 + 0.25 * rand()) * (rand() < 0.5 ? -1 : 1); // radians per second
  const distance = focus.radius * (1.3 + 0.4 * rand());
  const height = focus.radius * (0.15 + 0.35 * rand());
  return (i) => {
    const a = start + (speed * i) / fps;
    const c = focus.center;
    return {
      position: [c[0] + distance * Math.cos(a), c[1] + height, c[2] + distance * Math.sin(a)],
      target: c,
      cut: false,
    };
  };
};

/** Catmull-Rom interpolation of four points. */
function catmullRom(p0: Vec3, p1: Vec3, p2: Vec3, p3: Vec3, t: number): Vec3 {
  const t2 = t * t;
  const t3 = t2 * t;
  return [0, 1, 2].map(
    (k) =>
      0.5 *
      (2 * p1[k]! +
        (-p0[k]! + p2[k]!) * t +
        (2 * p0[k]! - 5 * p1[k]! + 4 * p2[k]! - p3[k]!) * t2 +
        (-p0[k]! + 3 * p1[k]! - 3 * p2[k]! + p3[k]!) * t3),
  ) as Vec3;
}

/** A smooth spline through seeded points around the focus, looking a little ahead of itself. */
const flythrough: PathFactory = ({ focus, fps, seed }) => {
  const rand = mulberry32(seed ^ 0xf1f1);
  const c = focus.center;
  const points: Vec3[] = [];
  let angle = rand() * 2 * Math.PI;
  for (let k = 0; k < 12; k++) {
    angle += 0.5 + 0.5 * rand();
    const r = focus.radius * (0.6 + 0.8 * rand());
    points.push([
      c[0] + r * Math.cos(angle),
      c[1] + focus.radius * (0.05 + 0.3 * rand()),
      c[2] + r * Math.sin(angle),
    ]);
  }
  const secondsPerSegment = 2 + rand();
  const at = (s: number): Vec3 => {
    const u = Math.max(0, s / secondsPerSegment);
    const k = Math.min(points.length - 4, Math.floor(u));
    return catmullRom(
      points[k]!,
      points[k + 1]!,
      points[k + 2]!,
      points[k + 3]!,
      Math.min(1, u - k),
    );
  };
  return (i) => {
    const position = at(i / fps);
    const ahead = at(i / fps + 0.5);
    // Look between the point ahead on the path and the focus, so the scene stays in view.
    return { position, target: vec3.lerp(ahead, c, 0.5), cut: false };
  };
};

/** Sideways translation with a fixed viewing direction (parallax and disocclusion). */
const pan: PathFactory = ({ focus, fps, seed }) => {
  const rand = mulberry32(seed ^ 0x9a17);
  const c = focus.center;
  const a = rand() * 2 * Math.PI;
  const distance = focus.radius * (1.1 + 0.3 * rand());
  const dir: Vec3 = [Math.cos(a), 0, Math.sin(a)];
  const side: Vec3 = [-dir[2], 0, dir[0]];
  const speed = focus.radius * (0.1 + 0.2 * rand()) * (rand() < 0.5 ? -1 : 1);
  const height = focus.radius * (0.1 + 0.2 * rand());
  return (i) => {
    const offset = vec3.scale(side, (speed * i) / fps);
    const position = vec3.add(vec3.add(c, vec3.scale(dir, distance)), [
      offset[0],
      height,
      offset[2],
    ]);
    return { position, target: vec3.add(c, offset), cut: false };
  };
};

/** The orbit with a seeded hand-held shake of the look-at point (fast, small, irregular motion). */
const shake: PathFactory = (context) => {
  const base = orbit(context);
  const rand = mulberry32(context.seed ^ 0x5a4e);
  const phases = Array.from({ length: 6 }, () => rand() * 2 * Math.PI);
  const amplitude = context.focus.radius * 0.03;
  return (i) => {
    const pose = base(i);
    const t = i / context.fps;
    const wobble = (k: number) =>
      amplitude * (Math.sin(11 * t + phases[k]!) + 0.5 * Math.sin(23 * t + phases[k + 3]!));
    return { ...pose, target: vec3.add(pose.target, [wobble(0), wobble(1), wobble(2)]) };
  };
};

/** A camera that stands still, then turns quickly (about 90° in half a second), then holds. */
const fastTurn: PathFactory = ({ focus, frames, fps, seed }) => {
  const rand = mulberry32(seed ^ 0x7e57);
  const c = focus.center;
  const a = rand() * 2 * Math.PI;
  const position: Vec3 = [
    c[0] + focus.radius * 1.2 * Math.cos(a),
    c[1] + focus.radius * 0.2,
    c[2] + focus.radius * 1.2 * Math.sin(a),
  ];
  const toCenter = Math.atan2(c[2] - position[2], c[0] - position[0]);
  const turn = (Math.PI / 2) * (0.7 + 0.6 * rand()) * (rand() < 0.5 ? -1 : 1);
  const start = eventFrame(frames, fps, 1 / 3);
  const duration = 0.5 * EVENT_RATE;
  return (i) => {
    const s = Math.min(1, Math.max(0, ((i * EVENT_RATE) / fps - start) / duration));
    const eased = s * s * (3 - 2 * s);
    const yaw = toCenter + turn * eased - turn / 2;
    return {
      position,
      target: vec3.add(position, [Math.cos(yaw), -0.15, Math.sin(yaw)]),
      cut: false,
    };
  };
};

/**
 * The orbit, cutting to a different orbit (another seed) at the middle of the sequence: reset at
 * the first frame at or after that instant.
 */
const cut: PathFactory = (context) => {
  const { frames, fps } = context;
  const first = orbit(context);
  const second = orbit({ ...context, seed: context.seed + 7919 });
  const at = Math.max(1, eventFrame(frames, fps, 1 / 2));
  const after = (i: number) => (i * EVENT_RATE) / fps >= at;
  return (i) => (after(i) ? { ...second(i), cut: !after(i - 1) } : first(i));
};

/** A fixed camera (object motion only). */
const still: PathFactory = (context) => {
  const base = orbit(context);
  return () => base(0);
};

/**
 * Flying straight ahead at a seeded speed (0.8–2 focus radii per second) through the focus, along
 * the scene's `focus.heading` (either way; a seeded horizontal direction where the scene has
 * none), slightly off the line and looking along it with a slow small wobble: everything beside
 * the line streams outwards and grows, thin poles and wires sweep past the camera.
 */
const forward: PathFactory = ({ focus, fps, seed }) => {
  const rand = mulberry32(seed ^ 0xf02d);
  const c = focus.center;
  const sign = rand() < 0.5 ? -1 : 1;
  const angle = rand() * 2 * Math.PI;
  const heading = focus.heading ?? [Math.cos(angle), 0, Math.sin(angle)];
  const flat = vec3.normalize([heading[0], 0, heading[2]]);
  const dir = vec3.scale(flat, sign);
  const side: Vec3 = [-dir[2], 0, dir[0]];
  const offset = focus.radius * 0.15 * (2 * rand() - 1);
  const height = focus.radius * 0.1 * (2 * rand() - 1);
  const speed = focus.radius * (0.8 + 1.2 * rand());
  const start = vec3.add(vec3.add(c, vec3.scale(dir, -0.8 * focus.radius)), [
    side[0] * offset,
    height,
    side[2] * offset,
  ]);
  const wobble = rand() * 2 * Math.PI;
  return (i) => {
    const t = i / fps;
    const position = vec3.add(start, vec3.scale(dir, speed * t));
    const yaw = 0.06 * Math.sin(1.3 * t + wobble);
    const look: Vec3 = [
      dir[0] * Math.cos(yaw) - side[0] * Math.sin(yaw),
      -0.04 + 0.02 * Math.sin(0.9 * t + wobble),
      dir[2] * Math.cos(yaw) - side[2] * Math.sin(yaw),
    ];
    return { position, target: vec3.add(position, look), cut: false };
  };
};

/** Built-in camera paths by name. */
export const CAMERA_PATHS: Readonly<Record<string, PathFactory>> = {
  orbit,
  flythrough,
  pan,
  shake,
  'fast-turn': fastTurn,
  cut,
  static: still,
  forward,
};

/** Looks up a built-in path. */
export function cameraPath(name: string, context: PathContext): CameraPath {
  const factory = CAMERA_PATHS[name];
  if (!factory) {
    throw new InputError(
      `unknown camera path "${name}"; one of: ${Object.keys(CAMERA_PATHS).join(', ')}`,
    );
  }
  return factory(context);
}
