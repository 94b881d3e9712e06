/**
 * Rigid node animation of glTF scenes (src/scene/gltf.ts): one clip's translation / rotation /
 * scale channels, LINEAR and STEP (CUBICSPLINE is read as LINEAR through its values), looped.
 */
import type { Node, Root } from '@gltf-transform/core';
import { composeTRS, slerp, type Mat4, type Quat, type Vec3 } from './math.ts';

type Channel = {
  path: 'translation' | 'rotation' | 'scale';
  times: Float32Array;
  values: Float32Array;
  step: boolean;
  cubic: boolean;
};

/** A node's local transform at a time in seconds. */
export type LocalTransform = (node: Node, time: number) => Mat4;

/** Local transforms under one animation clip, chosen by `seed` (Fox.glb has three), looped. */
export function animatedLocalTransform(root: Root, seed: number): LocalTransform {
  const channels = new Map<Node, Channel[]>();
  let duration = 0;
  const clips = root.listAnimations();
  const animation = clips[Math.abs(Math.trunc(seed)) % Math.max(1, clips.length)];
  for (const channel of animation?.listChannels() ?? []) {
    const node = channel.getTargetNode();
    const target = channel.getTargetPath();
    const sampler = channel.getSampler();
    if (
      !node ||
      !sampler ||
      (target !== 'translation' && target !== 'rotation' && target !== 'scale')
    )
      continue;
    const times = sampler.getInput()?.getArray();
    const values = sampler.getOutput()?.getArray();
    if (!times || !values) continue;
    const interpolation = sampler.getInterpolation();
    const list = channels.get(node) ?? [];
    list.push({
      path: target,
      times: Float32Array.from(times),
      values: Float32Array.from(values),
      step: interpolation === 'STEP',
      cubic: interpolation === 'CUBICSPLINE',
    });
    channels.set(node, list);
    duration = Math.max(duration, times[times.length - 1] ?? 0);
  }
  return (node, time) => {
    let t = node.getTranslation() as Vec3;
    let r = node.getRotation() as Quat;
    let s = node.getScale() as Vec3;
    const looped = duration > 0 ? time % duration : 0;
    for (const channel of channels.get(node) ?? []) {
      const v = sampleChannel(channel, looped);
      if (channel.path === 'translation') t = v as Vec3;
      else if (channel.path === 'rotation') r = v as Quat;
      else s = v as Vec3;
    }
    return composeTRS(t, r, s);
  };
}

/** Samples an animation channel at `time` (clamped to its range). */
function sampleChannel(channel: Channel, time: number): number[] {
  const { times, values } = channel;
  const size = channel.path === 'rotation' ? 4 : 3;
  // CUBICSPLINE stores (in-tangent, value, out-tangent) per key: read the value.
  const stride = channel.cubic ? size * 3 : size;
  const offset = channel.cubic ? size : 0;
  const key = (k: number) =>
    Array.from(values.subarray(k * stride + offset, k * stride + offset + size));
  const last = times.length - 1;
  if (time <= times[0]!) return key(0);
  if (time >= times[last]!) return key(last);
  let k = 0;
  while (k < last - 1 && times[k + 1]! <= time) k++;
  if (channel.step) return key(k);
  const t = (time - times[k]!) / (times[k + 1]! - times[k]!);
  const a = key(k);
  const b = key(k + 1);
  if (channel.path === 'rotation') return slerp(a as Quat, b as Quat, t);
  return a.map((v, i) => v + (b[i]! - v) * t);
}
