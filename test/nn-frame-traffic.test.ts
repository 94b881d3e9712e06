// The frame's byte accounting (src/nn/describe-frame.ts) against a real INT8 frame: every pass
// around the network, in order, binds what the description lists (same sizes, same direction as
// the WGSL declares); the fused filter + blend moves the filtered image's round trip less, the
// filter + blend in the last layer (v3a) the raw output's, the features computed in the first
// layer (v3a) the int8 features', and the output written by the filter + blend (no sharpening: no
// output pass) the history's read; the CLI prints it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { requestGpu } from '../src/gpu/device.ts';
import { createImage } from '../src/core/image.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { uploadImage } from '../src/gpu/resources.ts';
import { createUpscaler } from '../src/upscaler.ts';
import { createNeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import { loadWeights } from '../src/nn/weights.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { describeInt8Frame, type FrameBinding } from '../src/nn/describe-frame.ts';
import { describeInt8Plan } from '../src/nn/describe-int8-plan.ts';
import { matrixGeometry } from '../src/nn/ops/int8/matrix.ts';
import { rng } from './helpers/gpu.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { NETWORK_V3_CANDIDATES } from '../src/nn/network-v3.ts';

const TEXEL_BYTES: Partial<Record<GPUTextureFormat, number>> = {
  rgba32float: 16,
  rg32float: 8,
  r32float: 4,
};

/** Access of each @binding of a kernel's WGSL (uniforms omitted). */
function bindingAccess(code: string): Map<number, FrameBinding['access']> {
  const access = new Map<number, FrameBinding['access']>();
  for (const m of code.matchAll(/@binding\((\d+)\)\s*var(<[^>]*>)?\s*\w+\s*:\s*([\w<>, ]+);/g)) {
    const [, binding, space = '', type = ''] = m;
    if (space.includes('uniform')) continue;
    const writes = space.includes('read_write') || type.startsWith('texture_storage');
    access.set(Number(binding), writes ? 'write' : 'read');
  }
  return access;
}

/** A device that records every bind group's kernel label, bindings, sizes and WGSL access. */
async function recordingDevice() {
  const { device } = await requestGpu();
  const codeOf = new Map<string, string>();
  const viewBytes = new WeakMap<GPUTextureView, number>();
  const groups: { label: string; bindings: { access: string; bytes: number }[] }[] = [];
  const createShaderModule = device.createShaderModule.bind(device);
  device.createShaderModule = (d: GPUShaderModuleDescriptor) => {
    codeOf.set(d.label!, d.code);
    return createShaderModule(d);
  };
  const createTexture = device.createTexture.bind(device);
  device.createTexture = (d: GPUTextureDescriptor) => {
    const texture = createTexture(d);
    const [w, h] = d.size as number[];
    const createView = texture.createView.bind(texture);
    texture.createView = (v?: GPUTextureViewDescriptor) => {
      const view = createView(v);
      viewBytes.set(view, w! * h! * TEXEL_BYTES[d.format]!);
      return view;
    };
    return texture;
  };
  const createBindGroup = device.createBindGroup.bind(device);
  device.createBindGroup = (d: GPUBindGroupDescriptor) => {
    const access = bindingAccess(codeOf.get(d.label!) ?? '');
    const bindings = [...d.entries]
      .sort((a, b) => a.binding - b.binding)
      .filter((e) => access.has(e.binding))
      .map((e) => {
        const r = e.resource as { buffer?: GPUBuffer };
        const bytes = r.buffer ? r.buffer.size : viewBytes.get(e.resource as GPUTextureView)!;
        return { access: access.get(e.binding)!, bytes };
      });
    groups.push({ label: d.label!, bindings });
    return createBindGroup(d);
  };
  return { device, groups };
}

// Network v2 (the filter + blend in its conv3x3 head, and as its own pass reading the raw output)
// and v3a (the filter + blend in its up2x2 last layer, the features in its first).
// Both again reprojecting in the features pass (no reproject pass, no reprojected state).
for (const [network, lastLayer, reprojectInFeatures] of [
  ['v2', true, false],
  ['v2', false, false],
  ['v3a', true, false],
  ['v2', true, true],
  ['v3a', true, true],
] as const) {
  test(`frame accounting (${network}, filter + blend ${lastLayer ? 'in the last layer' : 'a pass'}${reprojectInFeatures ? ', reprojected in the features pass' : ''}): every pass around the INT8 network binds what describeInt8Frame lists`, async () => {
    const { device, groups } = await recordingDevice();
    const display: [number, number] = [32, 24];
    const model =
      network === 'v2'
        ? await loadWeights('weights/uplift-v2-int8.uplift')
        : randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
    const resolver = await createNeuralResolver(device, {
      model,
      lastLayerFilterBlend: lastLayer,
      reprojectInFeatures,
    });
    const up = await createUpscaler(device, { displaySize: display, method: 'neural', resolver });
    assert.equal(up.renderSize.join('x'), '16x12');
    const random = rng(3);
    const image = (channels: number) => {
      const i = createImage(16, 12, channels);
      for (let k = 0; k < i.data.length; k++) i.data[k] = random() * (channels === 2 ? 0.01 : 1);
      return uploadImage(device, i);
    };
    const inputs = { color: image(4), depth: image(1), motion: image(2) };
    for (const reset of [true, false]) {
      if (!reset) groups.length = 0; // the second frame: real previous history, state and depth
      const encoder = device.createCommandEncoder();
      up.dispatch(encoder, { ...defaultFrameParams(), ...inputs, reset });
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    }
    const frame = describeInt8Frame(planInt8(model.graph, model.parameters), display, [16, 12], {
      lastLayerFilterBlend: lastLayer,
      reprojectInFeatures,
    });
    assert.equal(frame.lastLayerFilterBlend, lastLayer);
    assert.equal(frame.reprojectInFeatures, reprojectInFeatures);
    assert.equal(
      frame.passes.some((p) => p.name === 'reproject'),
      !reprojectInFeatures,
      'the reproject pass',
    );
    // The features pass by default (FEATURES_FIRST_LAYER_BY_DEFAULT: it measured faster).
    assert.equal(frame.featuresFirstLayer, false);
    // No sharpening: the filter + blend writes the output, and there is no output pass.
    assert.ok(frame.foldedOutput);
    assert.ok(!frame.passes.some((p) => p.stage === 'output'));
    // The network's dispatches were prepared in the first frame.
    const passes = frame.passes.filter((p) => p.kernel && !p.name.startsWith('network: '));
    assert.deepEqual(
      groups.map((g) => g.label),
      passes.map((p) => p.kernel),
    );
    passes.forEach((p, i) => {
      const expected = p.bindings.map((b) => ({
        access: b.access === 'read_write' ? 'write' : b.access,
        bytes: b.boundBytes,
      }));
      assert.deepEqual(groups[i]!.bindings, expected, p.name);
    });
    up.destroy();
    device.destroy();
  });
}

test('frame accounting: fusing filter and blend saves the filtered image round trip and a raw read', async () => {
  const weights = await loadWeights('weights/uplift-v2-int8.uplift');
  const plan = planInt8(weights.graph, weights.parameters);
  // Both with the output pass and the head writing the raw output, so that the difference is the
  // fusion's alone.
  // History and state as binary16, the numbers below; the f32 default after them. With the
  // reproject pass (not the default since 2026-12-05), as the numbers were first counted.
  const half = { historyFormat: 'rgba16float', reprojectInFeatures: false } as const;
  const fused = describeInt8Frame(plan, [1920, 1080], [960, 540], {
    ...half,
    foldedOutput: false,
    lastLayerFilterBlend: false,
  });
  const twoPass = describeInt8Frame(plan, [1920, 1080], [960, 540], {
    ...half,
    fusedFilterBlend: false,
  });
  const pixels = 1920 * 1080;
  // Saved: the filtered image written and read (16 + 16 bytes a display pixel) and the prepared
  // color's window read a second time (16 bytes a render pixel, a quarter per display pixel).
  const saved = twoPass.bytesRead + twoPass.bytesWritten - fused.bytesRead - fused.bytesWritten;
  assert.equal(saved, 32 * pixels + 16 * 960 * 540);
  assert.equal(twoPass.passes.length, fused.passes.length + 1);
  // Network v2: the network's own traffic is the plan's, without the two input quantizations.
  // up0 computed in mix's kernel, mix in the head's, up1 in dec1's.
  assert.equal(fused.network.kernels.length, 13);
  // Per display pixel around the network, bytes read and written.
  const around = (d: typeof fused) =>
    d.passes
      .filter((p) => !p.name.startsWith('network: '))
      .reduce((s, p) => s + p.bytesRead + p.bytesWritten, 0) / pixels;
  // History and state in rgba16float: 8 bytes a pixel where vec4 f32 images take 16; read and
  // written 10 times a frame (reproject 4, features 2, filter + blend 3, output 1): 80 less
  // (319 -> 239). Prepare reading the input textures itself and keeping the depth: no load passes
  // (19 bytes a display pixel), no depth copy (8), its own reads 1 less: 211.
  assert.ok(Math.abs(around(fused) - 211) < 1, `around the network: ${around(fused)} B/px`);
  assert.ok(Math.abs(around(twoPass) - 247) < 1, `two passes: ${around(twoPass)} B/px`);
  assert.match(fused.text, /nn kpn filter \+ blend +48\.0 +16\.0 /);
  // The default, f32 history and state: 8 more bytes at each of the 10 reads and writes.
  const f32 = describeInt8Frame(plan, [1920, 1080], [960, 540], {
    foldedOutput: false,
    lastLayerFilterBlend: false,
    reprojectInFeatures: false,
  });
  assert.ok(Math.abs(around(f32) - 291) < 1, `f32 history: ${around(f32)} B/px`);
});

test('frame accounting: the filter + blend in the last layer saves the raw output written and read (v3a)', () => {
  const model = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  const plan = planInt8(model.graph, model.parameters);
  const half = { historyFormat: 'rgba16float' } as const;
  const inLastLayer = describeInt8Frame(plan, [1920, 1080], [960, 540], half);
  const pass = describeInt8Frame(plan, [1920, 1080], [960, 540], {
    ...half,
    lastLayerFilterBlend: false,
  });
  assert.ok(inLastLayer.foldedOutput && pass.foldedOutput);
  assert.ok(inLastLayer.lastLayerFilterBlend && !pass.lastLayerFilterBlend);
  // The raw output: 9 f32 planes at the padded size (1080 is a multiple of 8), written and read.
  const saved =
    pass.bytesRead + pass.bytesWritten - inLastLayer.bytesRead - inLastLayer.bytesWritten;
  assert.equal(saved, 2 * 9 * 4 * 1920 * 1080);
  // One pass less: the last layer left the network's kernels and took the filter + blend's place.
  assert.equal(inLastLayer.passes.length, pass.passes.length - 1);
  assert.equal(inLastLayer.network.kernels.length, pass.network.kernels.length - 1);
  assert.match(inLastLayer.text, /filter and blend in the last layer/);
  // It writes the history, the state (8 + 8) and the output image and texture (16 + 16).
  assert.match(inLastLayer.text, /last layer \(out\) \+ filter \+ blend \+ output +16\.0 +48\.0 /);
  // By default v3a runs it in its last layer.
  assert.ok(describeInt8Frame(plan, [1920, 1080], [960, 540]).lastLayerFilterBlend);
  // Network v2's conv3x3 head takes it too, by default since its 16×8 tiles
  // (LAST_LAYER_FILTER_BLEND_BY_DEFAULT), saving the same.
  const v2 = randomInt8Model(NETWORK_V2);
  const v2Plan = planInt8(v2.graph, v2.parameters);
  const v2Fused = describeInt8Frame(v2Plan, [1920, 1080], [960, 540]);
  const v2Pass = describeInt8Frame(v2Plan, [1920, 1080], [960, 540], {
    lastLayerFilterBlend: false,
  });
  assert.ok(v2Fused.lastLayerFilterBlend && !v2Pass.lastLayerFilterBlend);
  assert.equal(
    v2Pass.bytesRead + v2Pass.bytesWritten - v2Fused.bytesRead - v2Fused.bytesWritten,
    saved,
  );
});

test('frame accounting: the features computed in the first layer save the int8 features written and read (v3a)', () => {
  const model = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  const plan = planInt8(model.graph, model.parameters);
  for (const [display, render] of [
    [
      [1920, 1080],
      [960, 540],
    ],
    [
      [21, 13],
      [11, 7],
    ],
  ] as const) {
    const inFirstLayer = describeInt8Frame(plan, [...display], [...render], {
      featuresFirstLayer: true,
    });
    // The features pass after the reproject pass (the fused kernel cannot reproject).
    const pass = describeInt8Frame(plan, [...display], [...render], { reprojectInFeatures: false });
    assert.ok(inFirstLayer.featuresFirstLayer && !pass.featuresFirstLayer);
    // The 12 int8 features (3 words a pixel at the padded size), written by the features pass
    // and read by down1; the fused pass writes down1's output, which down1 wrote before.
    const [pw, ph] = [Math.ceil(display[0] / 8) * 8, Math.ceil(display[1] / 8) * 8];
    const saved =
      pass.bytesRead + pass.bytesWritten - inFirstLayer.bytesRead - inFirstLayer.bytesWritten;
    assert.equal(saved, 2 * 12 * pw * ph);
    assert.equal(inFirstLayer.passes.length, pass.passes.length - 1);
    assert.equal(inFirstLayer.network.kernels.length, pass.network.kernels.length - 1);
    assert.equal(inFirstLayer.network.kernels[0]!.name, 'res1c');
  }
  const text = describeInt8Frame(plan, [1920, 1080], [960, 540], {
    historyFormat: 'rgba16float',
    featuresFirstLayer: true,
  }).text;
  assert.match(text, /features in the first layer, filter and blend in the last layer/);
  // Reads color and motion (16 + 16 B a render pixel: 8 a display pixel) and history and state
  // (8 + 8), writes down1's 16 channels at ½ resolution (16 B a ½-resolution pixel: 4).
  assert.match(text, /^nn features \+ first layer \(down1\) +24\.0 +4\.0 /m);
  // Networks whose int8 features something else reads too keep the features pass.
  for (const network of [NETWORK_V2, NETWORK_V3_CANDIDATES['v3b']!]) {
    const m = randomInt8Model(network);
    const p = planInt8(m.graph, m.parameters);
    assert.equal(describeInt8Frame(p, [64, 48], [32, 24]).featuresFirstLayer, false);
    assert.throws(
      () => describeInt8Frame(p, [64, 48], [32, 24], { featuresFirstLayer: true }),
      /no features in the first layer: the input is quantized into 2 tensors/,
    );
  }
});

test('frame accounting: the output written by the filter + blend saves the output pass and its history read', () => {
  for (const network of [NETWORK_V2, NETWORK_V3_CANDIDATES['v3a']!]) {
    const model = randomInt8Model(network);
    const plan = planInt8(model.graph, model.parameters);
    const folded = describeInt8Frame(plan, [1920, 1080], [960, 540]);
    const separate = describeInt8Frame(plan, [1920, 1080], [960, 540], { foldedOutput: false });
    assert.ok(folded.foldedOutput && !separate.foldedOutput);
    // One pass less; 16 bytes a display pixel (the history, f32 by default) and the exposure
    // state read less; the output image and texture are written either way.
    assert.equal(folded.passes.length, separate.passes.length - 1);
    assert.equal(separate.bytesRead - folded.bytesRead, 16 * 1920 * 1080 + 16);
    assert.equal(folded.bytesWritten, separate.bytesWritten);
    assert.deepEqual(
      separate.passes.filter((p) => p.stage === 'output').map((p) => p.name),
      ['output rgba32float'],
    );
    assert.ok(!folded.passes.some((p) => p.stage === 'output'));
  }
  const model = randomInt8Model(NETWORK_V2);
  assert.throws(
    () =>
      describeInt8Frame(planInt8(model.graph, model.parameters), [64, 48], [32, 24], {
        fusedFilterBlend: false,
        foldedOutput: true,
      }),
    /the output is folded into the fused filter \+ blend only/,
  );
});

test('uplift info --plan prints the frame around the network, and JSON under "frame"', () => {
  const run = (...args: string[]) =>
    execFileSync(process.execPath, ['bin/uplift.mjs', 'info', ...args], { encoding: 'utf8' });
  const text = run('weights/uplift-v2-int8.uplift', '--plan', '--display', '64x48');
  assert.match(
    text,
    /INT8 neural frame at 64x48 from 32x24, 16 passes \(reprojected in the features pass, filter and blend in the last layer, writing the output, history rgba32float\)/,
  );
  assert.match(text, /^nn reproject \+ features \(int8 only\) \+ 2 int8 /m);
  assert.doesNotMatch(text, /^reproject /m);
  // --reproject-pass: the frame with the upscaler's reproject pass, one pass more.
  const withPass = run(
    'weights/uplift-v2-int8.uplift',
    '--plan',
    '--display',
    '64x48',
    '--reproject-pass',
  );
  assert.match(withPass, /64x48 from 32x24, 17 passes \(filter and blend in the last layer/);
  assert.match(withPass, /^reproject /m);
  // v2's head runs the filter + blend by default (LAST_LAYER_FILTER_BLEND_BY_DEFAULT): no raw
  // output, no separate pass.
  assert.match(text, /^last layer \(up0 \+ mix \+ head\) \+ filter \+ blend \+ output /m);
  assert.doesNotMatch(text, /^nn kpn filter \+ blend/m);
  assert.doesNotMatch(text, /^output rgba32float/m);
  assert.match(text, /^network \(12 kernels\)/m);
  const json = JSON.parse(run('--network', 'v3a', '--plan', '--quality', '1.5', '--json')) as {
    kernels: unknown[];
    frame: { renderSize: number[]; passes: { name: string }[]; bytesRead: number };
  };
  assert.equal(json.kernels.length, 10);
  assert.deepEqual(json.frame.renderSize, [1280, 720]);
  assert.ok(json.frame.passes.some((p) => p.name === 'last layer (out) + filter + blend + output'));
  assert.ok(!json.frame.passes.some((p) => p.name === 'nn kpn filter + blend'));
  // The features pass (reprojecting), not the features in the first layer
  // (FEATURES_FIRST_LAYER_BY_DEFAULT).
  assert.ok(
    json.frame.passes.some((p) => p.name === 'nn reproject + features (int8 only) + 1 int8'),
  );
  assert.ok(!json.frame.passes.some((p) => p.name.startsWith('nn features + first layer')));
  assert.throws(
    () => run('--network', 'v3a', '--plan', '--quality', 'fast'),
    /--quality: quality must be one of/,
  );
});

test('frame accounting: reprojecting in the features pass saves the reprojected state round trip, a history read and a motion read', () => {
  for (const network of [NETWORK_V2, NETWORK_V3_CANDIDATES['v3a']!]) {
    const model = randomInt8Model(network);
    const plan = planInt8(model.graph, model.parameters);
    const two = describeInt8Frame(plan, [1920, 1080], [960, 540], { reprojectInFeatures: false });
    const one = describeInt8Frame(plan, [1920, 1080], [960, 540], { reprojectInFeatures: true });
    // The default (REPROJECT_IN_FEATURES_BY_DEFAULT) is the fused kernel.
    const byDefault = describeInt8Frame(plan, [1920, 1080], [960, 540]);
    assert.ok(byDefault.reprojectInFeatures && !two.reprojectInFeatures);
    assert.equal(byDefault.bytesRead + byDefault.bytesWritten, one.bytesRead + one.bytesWritten);
    // The reprojected state written and read, the reprojected history read (16 B a display pixel
    // each, f32), the prepared motion read once (16 B a render pixel).
    const saved = two.bytesRead + two.bytesWritten - one.bytesRead - one.bytesWritten;
    assert.equal(saved, 3 * 16 * 1920 * 1080 + 16 * 960 * 540);
    assert.equal(one.passes.length, two.passes.length - 1);
    assert.match(one.text, /reprojected in the features pass/);
    assert.match(one.text, /^nn reproject \+ features \(int8 only\) \+ \d int8 /m);
  }
  const v3a = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  assert.throws(
    () =>
      describeInt8Frame(planInt8(v3a.graph, v3a.parameters), [64, 48], [32, 24], {
        reprojectInFeatures: true,
        featuresFirstLayer: true,
      }),
    /no reprojection in the features pass with the features in the first layer/,
  );
});

test('describeInt8Plan with the mixed kernels: v2 head on matrices reads q(mix) padded, v3a has no matrix step', () => {
  const v2 = randomInt8Model(NETWORK_V2);
  const plan = planInt8(v2.graph, v2.parameters);
  const display = [64, 48] as const;
  const dot4 = describeInt8Plan(plan, display);
  const mixed = describeInt8Plan(plan, display, 'mixed');
  const byName = (d: typeof dot4, name: string) => d.kernels.find((k) => k.name === name)!;
  assert.equal(byName(mixed, 'head').op, 'conv3x3 (matrices)');
  // On dot4I8Packed the head computes mix (and its up0) in its halo.
  assert.equal(byName(dot4, 'up0 + mix + head').op, 'up2x2 + conv1x1 + conv3x3');
  assert.equal(byName(dot4, 'up0 + mix + head').dataflow, 'q(dec1) + q(join) → raw');
  assert.match(byName(mixed, 'up0 + mix').dataflow, /q\(dec1\) \+ q\(join\) → q\(mix\) \(padded\)/);
  // The head's input: 24 channels padded to 32 bytes a pixel, a one-pixel border, rows of 32n + 2.
  const qMix = (64 + 2) * (48 + 2) * 32;
  const outputs = plan.steps.find((s) => s.node === 'head')!.params.bias.length;
  const g = matrixGeometry('conv3x3', 24, outputs);
  const weights = g.tapRows * g.chunks * 32 * g.columns + 4 * outputs;
  assert.equal(byName(mixed, 'head').bytesRead, qMix + weights);
  // Every other kernel as on dot4I8Packed.
  for (const k of dot4.kernels.filter((k) => k.name !== 'up0 + mix + head')) {
    assert.deepEqual(byName(mixed, k.name), k);
  }
  // up0 computed in mix's kernel, mix in the head's halo and up1 in dec1's: three kernels less;
  // up0's 8 channels (2 words a display pixel of q(join)), q(mix) (24 channels, 6 words a display
  // pixel) and q(skip1) (16 channels at ½ resolution) neither written nor read; the same MACs but
  // the producers' again for the border of the 16×8 tiles' halos (18×10).
  const unfused = describeInt8Plan(plan, display, 'dot4', false);
  assert.equal(unfused.kernels.length, dot4.kernels.length + 3);
  const up0Mix = byName(unfused, 'up0').macs + byName(unfused, 'mix').macs;
  assert.equal(
    byName(dot4, 'up0 + mix + head').macs,
    (up0Mix * 180) / 128 + byName(unfused, 'head').macs,
  );
  const up1 = byName(unfused, 'up1').macs;
  assert.equal(up1, 32 * 16 * 32 * 24);
  assert.equal(byName(dot4, 'up1 + dec1').macs, (up1 * 180) / 128 + byName(unfused, 'dec1').macs);
  assert.equal(dot4.macs - unfused.macs, ((up1 + up0Mix) * 52) / 128);
  const part = (2 + 6) * 4 * 64 * 48 + 4 * 4 * 32 * 24;
  assert.equal(unfused.bytesWritten - dot4.bytesWritten, part);
  assert.equal(unfused.bytesRead - dot4.bytesRead, part);
  assert.match(mixed.text, /mixed kernels/);
  const v3a = randomInt8Model(NETWORK_V3_CANDIDATES.v3a!);
  const v3aPlan = planInt8(v3a.graph, v3a.parameters);
  assert.deepEqual(
    describeInt8Plan(v3aPlan, display, 'mixed').kernels,
    describeInt8Plan(v3aPlan, display).kernels,
  );
});
