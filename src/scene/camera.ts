/**
 * Camera matrices with the conventions of DESIGN §4: device depth in [0, 1] with near = 0 (or
 * near = 1 when inverted), and a jitter applied in clip space so that render pixel (x, y) sees the
 * unjittered screen position (x + 0.5 + jx, y + 0.5 + jy), with y pointing down in pixel space.
 */
import { identity, invert, multiply, vec3, type Mat4, type Vec3 } from './math.ts';

/** A pinhole camera in world space. */
export interface Camera {
  position: Vec3;
  /** The point the camera looks at. */
  target: Vec3;
  /** World up (default +y). */
  up?: Vec3;
  /** Vertical field of view in radians. */
  fovY: number;
  near: number;
  far: number;
}

/** World → view matrix (right-handed, camera looking down −z). */
export function viewMatrix(camera: Camera): Mat4 {
  const forward = vec3.normalize(vec3.sub(camera.target, camera.position));
  let right = vec3.cross(forward, camera.up ?? [0, 1, 0]);
  // Looking straight up or down: any right vector perpendicular to forward will do.
  if (vec3.length(right) < 1e-9) right = vec3.cross(forward, [1, 0, 0]);
  right = vec3.normalize(right);
  const up = vec3.cross(right, forward);
  const m = identity();
  const p = camera.position;
  m[0] = right[0];
  m[4] = right[1];
  m[8] = right[2];
  m[1] = up[0];
  m[5] = up[1];
  m[9] = up[2];
  m[2] = -forward[0];
  m[6] = -forward[1];
  m[10] = -forward[2];
  m[12] = -vec3.dot(right, p);
  m[13] = -vec3.dot(up, p);
  m[14] = vec3.dot(forward, p);
  return m;
}

/**
 * Perspective projection to WebGPU clip space: x, y in [−1, 1] (y up), depth z/w in [0, 1] with
 * near → 0 and far → 1, or near → 1 and far → 0 when `inverted` (better float precision);
 * `far` may be Infinity (an infinite far plane, as reversed-Z engines project).
 */
export function perspective(
  fovY: number,
  aspect: number,
  near: number,
  far: number,
  inverted = false,
): Mat4 {
  if (!(near > 0) || !(far > near)) {
    throw new RangeError(`camera needs 0 < near < far, got near ${near}, far ${far}`);
  }
  if (!(fovY > 0 && fovY < Math.PI)) throw new RangeError(`fovY must be in (0, π), got ${fovY}`);
  const f = 1 / Math.tan(fovY / 2);
  const m = new Float64Array(16);
  m[0] = f / aspect;
  m[5] = f;
  m[11] = -1;
  // z_clip = A·z_view + B with w = −z_view: depth(−near) = 0 and depth(−far) = 1 (or swapped).
  // An infinite far plane takes the limits: A = −1, B = −near (A = 0, B = near inverted).
  if (far === Infinity) {
    m[10] = inverted ? 0 : -1;
    m[14] = inverted ? near : -near;
    return m;
  }
  const [n, fa] = inverted ? [far, near] : [near, far];
  m[10] = fa / (n - fa);
  m[14] = (n * fa) / (n - fa);
  return m;
}

/** Device depth of a point at view distance d (along −z) for the projection above. */
export function deviceDepth(d: number, near: number, far: number, inverted = false): number {
  const z = (far === Infinity ? 1 : far / (far - near)) * (1 - near / d);
  return inverted ? 1 - z : z;
}

/**
 * Shifts a projection by a sub-pixel jitter (jx, jy) in pixels of a `width`×`height` target.
 * Render pixel (x, y) then holds what the unjittered camera sees at (x + 0.5 + jx, y + 0.5 + jy):
 * the image moves by −jx pixels in x, and by −jy pixels downwards, i.e. +jy in NDC y (which points
 * up). The shift is added in clip space (scaled by w) so it is the same at every depth.
 */
export function jitterProjection(
  projection: Mat4,
  jitter: readonly [number, number],
  width: number,
  height: number,
): Mat4 {
  const shift = identity();
  shift[12] = (-2 * jitter[0]) / width;
  shift[13] = (2 * jitter[1]) / height;
  return multiply(shift, projection);
}

/**
 * A target that shows part of a larger image: the window of a virtual image `scale` times the
 * target's size in each dimension whose top-left corner lies at `offset` (fractions of the
 * virtual image, x right, y down; each in [0, 1 − 1/scale]). Rendering the window equals
 * cropping a render of the virtual image, pixel for pixel: training clips see the scenes at the
 * pixel density of a larger display for the cost of the crop.
 */
export interface ViewWindow {
  readonly scale: number;
  readonly offset: readonly [number, number];
}

/** Throws a RangeError unless `window` is a window as ViewWindow describes. */
export function checkViewWindow(window: ViewWindow): void {
  const { scale, offset } = window;
  const room = 1 - 1 / scale;
  if (!(scale >= 1 && Number.isFinite(scale))) {
    throw new RangeError(`view window: scale must be a finite number ≥ 1, got ${scale}`);
  }
  if (!offset.every((o) => o >= 0 && o <= room + 1e-12)) {
    throw new RangeError(
      `view window: offset ${offset.join(', ')} must lie in [0, ${room}] at scale ${scale}`,
    );
  }
}

/**
 * `projection` narrowed to `window`: clip-space x and y of the virtual image mapped so that the
 * window spans [−1, 1] (applied before the jitter, which is in the target's pixels).
 */
export function windowProjection(projection: Mat4, window: ViewWindow): Mat4 {
  checkViewWindow(window);
  const { scale, offset } = window;
  // The window's centre in the virtual image's NDC (y up).
  const cx = -1 + 2 * offset[0] + 1 / scale;
  const cy = 1 - 2 * offset[1] - 1 / scale;
  const narrow = identity();
  narrow[0] = scale;
  narrow[5] = scale;
  narrow[12] = -scale * cx;
  narrow[13] = -scale * cy;
  return multiply(narrow, projection);
}

/** Everything a frame needs from the camera. */
export interface CameraMatrices {
  /** Unjittered projection · view (for motion vectors). */
  viewProjection: Mat4;
  /** Jittered projection · view (for rasterization). */
  jitteredViewProjection: Mat4;
  view: Mat4;
  /** Camera position in world space (for specular). */
  position: Vec3;
}

/**
 * View and (jittered) view-projection for a target of `width`×`height` pixels, or for a `window`
 * of a virtual image larger by its scale.
 */
export function cameraMatrices(
  camera: Camera,
  width: number,
  height: number,
  jitter: readonly [number, number],
  depthInverted = false,
  window?: ViewWindow,
): CameraMatrices {
  const view = viewMatrix(camera);
  const full = perspective(camera.fovY, width / height, camera.near, camera.far, depthInverted);
  const projection = window ? windowProjection(full, window) : full;
  return {
    view,
    viewProjection: multiply(projection, view),
    jitteredViewProjection: multiply(jitterProjection(projection, jitter, width, height), view),
    position: camera.position,
  };
}

/** Screen position in pixels (origin top-left, y down) of world point p, or null behind the camera. */
export function projectToPixels(
  viewProjection: Mat4,
  p: Vec3,
  width: number,
  height: number,
): [number, number] | null {
  const m = viewProjection;
  const x = m[0]! * p[0] + m[4]! * p[1] + m[8]! * p[2] + m[12]!;
  const y = m[1]! * p[0] + m[5]! * p[1] + m[9]! * p[2] + m[13]!;
  const w = m[3]! * p[0] + m[7]! * p[1] + m[11]! * p[2] + m[15]!;
  if (w <= 0) return null;
  return [((x / w + 1) / 2) * width, ((1 - y / w) / 2) * height];
}

/** The world point seen at pixel position (px, py) at view distance `d` (inverse of the above). */
export function unprojectPixel(
  camera: Camera,
  px: number,
  py: number,
  d: number,
  width: number,
  height: number,
): Vec3 {
  const inverseView = invert(viewMatrix(camera));
  const f = 1 / Math.tan(camera.fovY / 2);
  const ndcX = (px / width) * 2 - 1;
  const ndcY = 1 - (py / height) * 2;
  const viewPoint: Vec3 = [(ndcX * d * width) / height / f, (ndcY * d) / f, -d];
  const m = inverseView;
  return [0, 1, 2].map(
    (r) => m[r]! * viewPoint[0] + m[4 + r]! * viewPoint[1] + m[8 + r]! * viewPoint[2] + m[12 + r]!,
  ) as Vec3;
}
