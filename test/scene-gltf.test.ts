import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Document, NodeIO } from '@gltf-transform/core';
import { encode } from 'fast-png';
import { testGpu } from './helpers/gpu.ts';
import { loadGltfScene } from '../src/scene/gltf.ts';
import { axisAngle, composeTRS, multiply, slerp } from '../src/scene/math.ts';
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

const assets = join(process.cwd(), '..', 'shared', 'assets', 'gltf');
test(
  'glTF: small assets from ../shared/assets render',
  { skip: !existsSync(assets) && `${assets} is absent` },
  async () => {
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
  },
);
