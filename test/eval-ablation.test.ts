// The recurrent-state ablation: `neural@zero-state` runs the same model with its reprojected
// state replaced by zeros every frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { parseMethod, runMethod } from '../src/eval/run-method.ts';
import { openSequenceArg } from '../src/cli/sequence-arg.ts';
import type { Image } from '../src/core/image.ts';

test('method names: precision and zero-state modifiers combine', () => {
  const spec = parseMethod('neural@int8@zero-state', 'weights/uplift-v2-int8.uplift');
  assert.equal(spec.name, 'neural@int8@zero-state');
  assert.equal(spec.precision, 'int8');
  assert.equal(spec.zeroState, true);
  assert.equal(parseMethod('neural', 'weights/uplift-v2.uplift').zeroState, undefined);
  assert.throws(() => parseMethod('neural@zero', 'weights/uplift-v2.uplift'), /zero/);
});

/** A method's outputs on 4 frames of the analytic sequence at 32×24, network v2's weights. */
async function outputs(name: string): Promise<Image[]> {
  const { device } = await testGpu();
  const source = await openSequenceArg('builtin:analytic:1', {
    displaySize: [32, 24],
    quality: 'performance',
    frames: 4,
  });
  const frames: Image[] = [];
  await runMethod(device, source, parseMethod(name, 'weights/uplift-v2.uplift'), {
    onFrame: (_i, output) => void frames.push(output),
  });
  return frames;
}

test('neural@zero-state changes what the network outputs once it has a state to lose', async () => {
  const [plain, zeroed] = [await outputs('neural@f32'), await outputs('neural@f32@zero-state')];
  const meanDifference = (a: Image, b: Image) =>
    a.data.reduce((sum, v, i) => sum + Math.abs(v - b.data[i]!), 0) / a.data.length;
  // Frame 0 is a reset: its reprojected state is zero either way.
  assert.equal(meanDifference(plain[0]!, zeroed[0]!), 0);
  assert.ok(meanDifference(plain[3]!, zeroed[3]!) > 1e-4, 'the state reaches the output');
});

test('method names: any method may end in @rcas, at 0.5 or a given sharpness', () => {
  assert.deepEqual(parseMethod('taau@rcas'), {
    name: 'taau@rcas=0.5',
    method: 'taau',
    sharpness: 0.5,
  });
  const spec = parseMethod('neural@int8@rcas=0.25', 'weights/uplift-v2-int8.uplift');
  assert.equal(spec.name, 'neural@int8@rcas=0.25');
  assert.equal(spec.precision, 'int8');
  assert.equal(spec.sharpness, 0.25);
  for (const bad of ['taau@rcas=', 'taau@rcas=1.5', 'taau@rcas=x', 'neural@rcas=-0.1']) {
    assert.throws(() => parseMethod(bad, 'weights/uplift-v2.uplift'), /@rcas=<sharpness>/, bad);
  }
});

test('neural@rcas sharpens the network output: more contrast between neighbours', async () => {
  const last = async (name: string) => (await outputs(name))[3]!;
  const [plain, sharp] = [await last('neural@f32'), await last('neural@f32@rcas=1')];
  const contrast = (image: Image) => {
    let sum = 0;
    for (let i = image.channels; i < image.data.length; i++) {
      sum += Math.abs(image.data[i]! - image.data[i - image.channels]!);
    }
    return sum;
  };
  assert.ok(contrast(sharp) > contrast(plain) * 1.01, `${contrast(sharp)} > ${contrast(plain)}`);
});
