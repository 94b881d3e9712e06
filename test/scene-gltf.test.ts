import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, NodeIO } from '@gltf-transform/core';
import { encode } from 'fast-png';
import { maxAbsDiff, testGpu } from './helpers/gpu.ts';
import { loadGltfScene } from '../src/scene/gltf.ts';
import { axisAngle, composeTRS, multiply, slerp, type Vec3 } from '../src/scene/math.ts';
import { createSceneRasterizer, referenceSampleOffset } from '../src/scene/rasterizer.ts';
import { createGpuImage, readGpuImage, type GpuImage } from '../src/gpu/gpu-image.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';

/** A parent node (translated) with an animated child holding a masked, textured quad. */
async function writeTestGlb(path: string): Promise<void> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const accessor = (type: 'VEC2' | 'VEC3' | 'VEC4' | 'SCALAR', array: Float32Array | Uint16Array) =>
    doc.createAccessor().setType(type).setArray(array).setBuffer(buffer);
  const pixels = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255, 255, 100]);
  const texture = doc
    .createTexture('checker')
    .setImage(encode({ width: 2, height: 2, data: pixels, channels: 4 }))
    .setMimeType('image/png');
  const material = doc
    .createMaterial('masked')
    .setBaseColorTexture(texture)
    .setOcclusionTexture(texture)
    .setAlphaMode('MASK')
    .setAlphaCutoff(0.3)
    .setDoubleSided(true)
    .setEmissiveFactor([0.5, 0.25, 0])
    .setRoughnessFactor(0.4)
    .setMetallicFactor(0.2);
  const primitive = doc
    .createPrimitive()
    .setAttribute(
      'POSITION',
      accessor('VEC3', new Float32Array([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0])),
    )
    .setAttribute(
      'NORMAL',
      accessor('VEC3', new Float32Array([0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1])),
    )
    .setAttribute('TEXCOORD_0', accessor('VEC2', new Float32Array([0, 1, 1, 1, 1, 0, 0, 0])))
    .setIndices(accessor('SCALAR', new Uint16Array([0, 1, 2, 0, 2, 3])))
    .setMaterial(material);
  const child = doc.createNode('child').setMesh(doc.createMesh('quad').addPrimitive(primitive));
  const parent = doc
    .createNode('parent')
    .setTranslation([1, 2, 3])
    .setScale([2, 2, 2])
    .addChild(child);
  doc.createScene('test').addChild(parent);
  const q1 = axisAngle([0, 1, 0], Math.PI / 2);
  const rotation = doc
    .createAnimationSampler()
    .setInput(accessor('SCALAR', new Float32Array([0, 1])))
    .setOutput(accessor('VEC4', new Float32Array([0, 0, 0, 1, ...q1])))
    .setInterpolation('LINEAR');
  const translation = doc
    .createAnimationSampler()
    .setInput(accessor('SCALAR', new Float32Array([0, 0.5, 2])))
    .setOutput(accessor('VEC3', new Float32Array([0, 0, 0, 0, 1, 0, 0, 5, 0])))
    .setInterpolation('STEP');
  doc
    .createAnimation('move')
    .addSampler(rotation)
    .addSampler(translation)
    .addChannel(
      doc
        .createAnimationChannel()
        .setTargetNode(child)
        .setTargetPath('rotation')
        .setSampler(rotation),
    )
    .addChannel(
      doc
        .createAnimationChannel()
        .setTargetNode(child)
        .setTargetPath('translation')
        .setSampler(translation),
    );
  writeFileSync(path, await new NodeIO().writeBinary(doc));
}

test('glTF: hierarchy, TRS animation (LINEAR, STEP), materials and textures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-gltf-'));
  try {
    const path = join(dir, 'test.glb');
    await writeTestGlb(path);
    const scene = await loadGltfScene(path, 1);
    assert.equal(scene.objects.length, 2, 'the quad and the sky dome');
    const quad = scene.objects[0]!;
    const parent = composeTRS([1, 2, 3], [0, 0, 0, 1], [2, 2, 2]);
    const expectAt = (
      time: number,
      t: [number, number, number],
      q: [number, number, number, number],
    ) => {
      const expected = multiply(parent, composeTRS(t, q, [1, 1, 1]));
      const got = quad.transform(time);
      for (let k = 0; k < 16; k++)
        assert.ok(Math.abs(got[k]! - expected[k]!) < 1e-6, `t=${time} [${k}]`);
    };
    const q1 = axisAngle([0, 1, 0], Math.PI / 2);
    expectAt(0, [0, 0, 0], [0, 0, 0, 1]);
    expectAt(0.25, [0, 0, 0], slerp([0, 0, 0, 1], q1, 0.25));
    expectAt(0.75, [0, 1, 0], slerp([0, 0, 0, 1], q1, 0.75));
    const m = scene.materials[quad.material]!;
    assert.equal(m.alphaMode, 'mask');
    assert.ok(Math.abs(m.alphaCutoff - 0.3) < 1e-6);
    assert.equal(m.doubleSided, true);
    assert.deepEqual(m.emissive, [0.5, 0.25, 0]);
    const texture = scene.textures[m.baseColorTexture!]!;
    assert.deepEqual([texture.width, texture.height, texture.srgb], [2, 2, true]);
    assert.deepEqual(Array.from(texture.levels[0]!.subarray(0, 8)), [255, 0, 0, 255, 0, 255, 0, 0]);
    assert.equal(texture.levels.length, 2);
    // The same image as occlusion is data (linear), a texture of its own.
    const occlusion = scene.textures[m.occlusionTexture!]!;
    assert.equal(occlusion.srgb, false);
    assert.notEqual(m.occlusionTexture, m.baseColorTexture);
    assert.equal(scene.meshes[quad.mesh]!.tangents!.length, 16);
    // Focus: the quad's bounds at t = 0 (x 1..3, y 2..4, z 3).
    assert.ok(
      Math.abs(scene.focus.center[0] - 2) < 1e-6 && Math.abs(scene.focus.center[1] - 3) < 1e-6,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const assets = fileURLToPath(new URL('../assets/gltf', import.meta.url));
test('glTF: small assets of the repository (assets/gltf) render', async () => {
  const { device } = await testGpu();
  for (const file of ['AlienCake/alien.glb', 'ship/craft_speederD.gltf']) {
    const scene = await loadGltfScene(join(assets, file), 2);
    const renderer = createSceneRenderer(device, {
      scene,
      displaySize: [32, 24],
      samples: 2,
      frames: 2,
    });
    const frame = await sceneFrameSource(renderer).readFrame(1);
    for (const v of frame.reference!.data) assert.ok(Number.isFinite(v), file);
    // The model covers part of the view: depth is not the sky's everywhere.
    const depths = new Set(Array.from(frame.depth.data, (d) => d.toFixed(4)));
    assert.ok(depths.size > 10, `${file}: ${depths.size} distinct depths`);
    renderer.destroy();
  }
});

/**
 * A skinned beam: a double-sided strip from y = 0 to 2 on two joints (the root at the origin, its
 * child at y = 1); the animation turns the child joint by 90° about z over one second.
 */
async function writeSkinnedGlb(path: string): Promise<void> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const accessor = (
    type: 'VEC2' | 'VEC3' | 'VEC4' | 'SCALAR' | 'MAT4',
    array: Float32Array | Uint16Array,
  ) => doc.createAccessor().setType(type).setArray(array).setBuffer(buffer);
  const rows = 9;
  const positions: number[] = [];
  const joints: number[] = [];
  const weights: number[] = [];
  const indices: number[] = [];
  const uvs: number[] = [];
  for (let r = 0; r < rows; r++) {
    const y = (2 * r) / (rows - 1);
    // Below y = 0.75 on the root, above 1.25 on the child, blended between.
    const w1 = Math.min(1, Math.max(0, (y - 0.75) / 0.5));
    for (const x of [-0.2, 0.2]) {
      positions.push(x, y, 0);
      uvs.push(x + 0.5, y / 2);
      joints.push(0, 1, 0, 0);
      weights.push(1 - w1, w1, 0, 0);
    }
    if (r > 0) {
      const a = 2 * (r - 1);
      indices.push(a, a + 1, a + 3, a, a + 3, a + 2);
    }
  }
  const n = positions.length / 3;
  const primitive = doc
    .createPrimitive()
    .setAttribute('POSITION', accessor('VEC3', new Float32Array(positions)))
    .setAttribute(
      'NORMAL',
      accessor(
        'VEC3',
        new Float32Array(n * 3).map((_, k) => +(k % 3 === 2)),
      ),
    )
    // UVs vary (a primitive without them is tested below: 'without TEXCOORD_0').
    .setAttribute('TEXCOORD_0', accessor('VEC2', new Float32Array(uvs)))
    .setAttribute('JOINTS_0', accessor('VEC4', new Uint16Array(joints)))
    .setAttribute('WEIGHTS_0', accessor('VEC4', new Float32Array(weights)))
    .setIndices(accessor('SCALAR', new Uint16Array(indices)))
    .setMaterial(
      doc.createMaterial('beam').setDoubleSided(true).setBaseColorFactor([1, 0.5, 0.2, 1]),
    );
  const child = doc.createNode('joint1').setTranslation([0, 1, 0]);
  const root = doc.createNode('joint0').addChild(child);
  const inverseBind = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const skin = doc
    .createSkin('skin')
    .addJoint(root)
    .addJoint(child)
    .setSkeleton(root)
    .setInverseBindMatrices(
      accessor(
        'MAT4',
        new Float32Array([...inverseBind, ...inverseBind.map((v, k) => (k === 13 ? -1 : v))]),
      ),
    );
  const beam = doc
    .createNode('beam')
    .setMesh(doc.createMesh('beam').addPrimitive(primitive))
    .setSkin(skin);
  doc.createScene('skinned').addChild(root).addChild(beam);
  const turn = doc
    .createAnimationSampler()
    .setInput(accessor('SCALAR', new Float32Array([0, 1])))
    .setOutput(
      accessor('VEC4', new Float32Array([0, 0, 0, 1, ...axisAngle([0, 0, 1], Math.PI / 2)])),
    )
    .setInterpolation('LINEAR');
  doc
    .createAnimation('bend')
    .addSampler(turn)
    .addChannel(
      doc.createAnimationChannel().setTargetNode(child).setTargetPath('rotation').setSampler(turn),
    );
  writeFileSync(path, await new NodeIO().writeBinary(doc));
}

test('glTF skin: the ground truth shows the pose of the inputs at every instant, in any call order', async () => {
  const { device } = await testGpu();
  const dir = mkdtempSync(join(tmpdir(), 'uplift-skin-'));
  try {
    const path = join(dir, 'skinned.glb');
    await writeSkinnedGlb(path);
    const scene = await loadGltfScene(path, 1);
    assert.ok(scene.objects[0]!.skin, 'the beam is skinned');
    const [W, H] = [40, 32];
    const rasterizer = createSceneRasterizer(device, scene);
    const camera = { position: [0, 1, 4] as Vec3, target: [0, 1, 0] as Vec3, ...scene.lens };
    const image = () => createGpuImage(device, W, H, 'skin test');
    const inputs = { color: image(), depth: image(), motion: image(), reactive: image() };
    const reference = image();
    const view = (time: number) => ({ camera, time, depthInverted: false, mipBias: 0 });
    const read = async (img: GpuImage) => (await readGpuImage(device, img, 3)).data;
    /** Inputs at `time` (previous instant `prev`, jitter 0), read back. */
    const renderInputs = async (time: number, prev: number) => {
      rasterizer.renderInputs(view(time), { camera, time: prev }, [0, 0], inputs);
      return read(inputs.color);
    };
    const renderReference = async (time: number, samples: number) => {
      rasterizer.renderReference(view(time), samples, reference);
      return read(reference);
    };
    const diff = (a: Float32Array, b: Float32Array) => {
      let max = 0;
      let sum = 0;
      for (let k = 0; k < a.length; k++) {
        const d = Math.abs(a[k]! - b[k]!);
        max = Math.max(max, d);
        sum += d;
      }
      return { max, mean: sum / a.length };
    };
    // The animation is visible at this size: a pose 0.25 s away differs a lot.
    const a = await renderInputs(0.2, 0.2);
    const b = await renderInputs(0.45, 0.45);
    assert.ok(diff(a, b).mean > 0.02, `poses 0.25 s apart differ by ${diff(a, b).mean}`);
    // Fresh references, each after inputs at another instant than its own.
    const fresh = new Map<number, Float32Array>();
    for (const [time, before] of [
      [0.2, 0.7],
      [0.45, 0.2],
      [0.7, 0.45],
    ] as const) {
      await renderInputs(before, before - 0.1);
      fresh.set(time, await renderReference(time, 1));
    }
    for (const time of [0.2, 0.45, 0.7]) {
      // As a data engine frame: inputs (previous instant one frame back), then the reference.
      const color = await renderInputs(time, time - 1 / 60);
      const one = await renderReference(time, 1);
      // One centred sample at ratio 1 with zero jitter draws exactly the inputs' pixels.
      assert.ok(
        diff(color, one).max < 1e-5,
        `t=${time}: reference vs inputs ${diff(color, one).max}`,
      );
      assert.ok(diff(one, fresh.get(time)!).max < 1e-5, `t=${time}: depends on the call order`);
    }
    // Supersampled: the reference is the mean of inputs jittered by its sample offsets.
    const samples = 16;
    const mean = new Float32Array(W * H * 3);
    for (let k = 0; k < samples; k++) {
      rasterizer.renderInputs(
        view(0.45),
        { camera, time: 0.3 },
        referenceSampleOffset(k, samples),
        inputs,
      );
      const color = await read(inputs.color);
      for (let i = 0; i < mean.length; i++) mean[i] = mean[i]! + color[i]! / samples;
    }
    const many = diff(mean, await renderReference(0.45, samples));
    assert.ok(many.max < 1e-4, `16-sample reference vs mean of jittered inputs: ${many.max}`);
    rasterizer.destroy();
    for (const img of [...Object.values(inputs), reference]) img.buffer.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A 2×2 quad facing +z with an untextured orange material, with or without TEXCOORD_0. */
async function writeQuadGlb(path: string, uvs: boolean): Promise<void> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const accessor = (type: 'VEC2' | 'VEC3' | 'SCALAR', array: Float32Array | Uint16Array) =>
    doc.createAccessor().setType(type).setArray(array).setBuffer(buffer);
  const primitive = doc
    .createPrimitive()
    .setAttribute(
      'POSITION',
      accessor('VEC3', new Float32Array([-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0])),
    )
    .setAttribute(
      'NORMAL',
      accessor('VEC3', new Float32Array([0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1])),
    )
    .setIndices(accessor('SCALAR', new Uint16Array([0, 1, 2, 0, 2, 3])))
    .setMaterial(doc.createMaterial('orange').setBaseColorFactor([1, 0.5, 0.2, 1]));
  if (uvs)
    primitive.setAttribute(
      'TEXCOORD_0',
      accessor('VEC2', new Float32Array([0, 1, 1, 1, 1, 0, 0, 0])),
    );
  doc
    .createScene('quad')
    .addChild(doc.createNode('quad').setMesh(doc.createMesh('quad').addPrimitive(primitive)));
  writeFileSync(path, await new NodeIO().writeBinary(doc));
}

test('glTF: a primitive without TEXCOORD_0 shades like the same untextured primitive with UVs', async () => {
  const { device } = await testGpu();
  const dir = mkdtempSync(join(tmpdir(), 'uplift-nouv-'));
  try {
    const [W, H] = [8, 8];
    const image = () => createGpuImage(device, W, H, 'no-uv test');
    const inputs = { color: image(), depth: image(), motion: image(), reactive: image() };
    const reference = image();
    const render = async (uvs: boolean) => {
      const path = join(dir, `quad-${uvs}.glb`);
      await writeQuadGlb(path, uvs);
      const scene = await loadGltfScene(path, 1);
      const rasterizer = createSceneRasterizer(device, scene);
      const camera = { position: [0, 0, 3] as Vec3, target: [0, 0, 0] as Vec3, ...scene.lens };
      const view = { camera, time: 0, depthInverted: false, mipBias: 0 };
      rasterizer.renderInputs(view, { camera, time: 0 }, [0, 0], inputs);
      const color = (await readGpuImage(device, inputs.color, 3)).data;
      rasterizer.renderReference(view, 1, reference);
      const truth = (await readGpuImage(device, reference, 3)).data;
      rasterizer.destroy();
      return { color, truth };
    };
    const without = await render(false);
    const withUvs = await render(true);
    for (const [name, data] of Object.entries(without))
      for (const v of data) assert.ok(Number.isFinite(v) && v < 100, `${name}: ${v}`);
    // The quad covers the middle of the view: lit orange (r > g > b, dim but not black).
    const centre = ((H / 2) * W + W / 2) * 3;
    const [r, g, b] = without.color.subarray(centre, centre + 3);
    assert.ok(r! > g! && g! > b! && b! > 0.005 && r! < 2, `centre ${[r, g, b]}`);
    // Untextured: the uvs change nothing.
    for (const key of ['color', 'truth'] as const) {
      const d = maxAbsDiff(without[key], withUvs[key]);
      assert.ok(d.max < 1e-5, `${key}: without vs with uvs differ by ${d.max} at ${d.at}`);
    }
    for (const img of [...Object.values(inputs), reference]) img.buffer.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
