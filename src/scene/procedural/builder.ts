/** A small helper to assemble procedural scenes: shared sky, ground, light and lens. */
import { mulberry32 } from '../../core/random.ts';
import { planeMesh, sphereMesh } from '../geometry.ts';
import { axisAngle, composeTRS, vec3, type Mat4, type Quat, type Vec3 } from '../math.ts';
import { material, type Material, type Mesh, type Scene, type TextureData } from '../types.ts';
import { skyTexture } from './textures.ts';

/** Rotation turning the +z-facing plane mesh into a floor facing +y. */
export const FLOOR: Quat = axisAngle([1, 0, 0], -Math.PI / 2);

/** A constant transform. */
export const fixed = (t: Vec3, q: Quat = [0, 0, 0, 1], s: Vec3 = [1, 1, 1]) => {
  const m = composeTRS(t, q, s);
  return (): Mat4 => m;
};

export class SceneBuilder {
  readonly scene: Scene;
  /** The seeded random stream for layout, materials and motion. */
  readonly rand: () => number;

  constructor(name: string, seed: number, focus: Scene['focus']) {
    this.rand = mulberry32(seed ^ 0x51ce);
    const r = this.rand;
    const sunAzimuth = r() * 2 * Math.PI;
    const sunElevation = 0.5 + 0.6 * r();
    this.scene = {
      name,
      meshes: [],
      materials: [],
      textures: [],
      objects: [],
      light: {
        direction: vec3.normalize([
          Math.cos(sunAzimuth) * Math.cos(sunElevation),
          Math.sin(sunElevation),
          Math.sin(sunAzimuth) * Math.cos(sunElevation),
        ]),
        color: [3.2, 3.0, 2.7],
        ambient: [0.22, 0.26, 0.34],
      },
      focus,
      lens: { fovY: (55 * Math.PI) / 180, near: 0.1, far: 400 },
      defaultPath: 'orbit',
      source: { generator: 'uplift procedural scene', scene: name, seed, license: 'CC0-1.0' },
    };
  }

  /** A uniform random number in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.rand();
  }

  mesh(mesh: Mesh): number {
    return this.scene.meshes.push(mesh) - 1;
  }

  texture(texture: TextureData): number {
    return this.scene.textures.push(texture) - 1;
  }

  material(props: Partial<Material>): number {
    return this.scene.materials.push(material(props)) - 1;
  }

  object(mesh: number, materialIndex: number, transform: (time: number) => Mat4): void {
    this.scene.objects.push({ mesh, material: materialIndex, transform });
  }

  /** A sky dome (unlit gradient) and a textured floor of `size` metres. */
  skyAndGround(groundMaterial: Partial<Material>, size = 200): void {
    const sky = this.texture(skyTexture([0.35, 0.55, 0.95], [0.85, 0.9, 1.0]));
    const skyMaterial = this.material({
      baseColor: [1.6, 1.6, 1.6, 1],
      baseColorTexture: sky,
      unlit: true,
    });
    this.object(this.mesh(sphereMesh(300, 32, 16, true)), skyMaterial, fixed([0, 0, 0]));
    this.object(
      this.mesh(planeMesh(size, size, [size / 4, size / 4])),
      this.material(groundMaterial),
      fixed([0, 0, 0], FLOOR),
    );
  }
}
