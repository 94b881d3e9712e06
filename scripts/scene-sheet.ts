// Contact sheet of data-engine scenes: per scene × path, one row of a frame's jittered color
// (render resolution, pixels as squares), motion magnitude (full scale 4 render pixels), reference,
// and the motion-consistency error (the antialiased frame t − 1 reprojected with the stored
// vectors onto frame t, rendered at ratio 1 without jitter; grey where motion is under a quarter
// pixel). Prints the consistency numbers as JSON lines.
//
// Usage: npx tsx scripts/scene-sheet.ts --out sheet.png [--display 96x64] [--frame 5]
//          [--samples 64] [--zoom 3] scene:path[:seed] ...
import { parseArgs } from 'node:util';
import { createImage, type Image } from '../src/core/image.ts';
import { tonemapImage } from '../src/core/tonemap.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { writePng } from '../src/io/png.ts';
import { hstack, vstack, zoomNearest } from '../src/report/compose.ts';
import { toDisplay } from '../src/report/write-report.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';
import { motionConsistency } from '../test/helpers/motion-consistency.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    display: { type: 'string', default: '96x64' },
    frame: { type: 'string', default: '5' },
    samples: { type: 'string', default: '64' },
    zoom: { type: 'string', default: '3' },
  },
});
if (!values.out || positionals.length === 0) {
  console.error('usage: scene-sheet.ts --out sheet.png [--display WxH] scene:path[:seed] ...');
  process.exit(2);
}
const [W, H] = values.display.split('x').map(Number) as [number, number];
const frame = Number(values.frame);
const zoom = Number(values.zoom);

/** Motion length in render pixels on a black–blue–cyan–white ramp (full scale `scale` px). */
function motionMagnitude(motion: Image, scale: number): Image {
  const out = createImage(motion.width, motion.height, 3);
  for (let i = 0; i < motion.width * motion.height; i++) {
    const m = Math.hypot(
      motion.data[i * 2]! * motion.width,
      motion.data[i * 2 + 1]! * motion.height,
    );
    const t = Math.min(1, m / scale) * 3;
    out.data.set([Math.max(0, t - 2), Math.min(1, Math.max(0, t - 1)), Math.min(1, t)], i * 3);
  }
  return out;
}

/** Consistency error: black–red–yellow ramp (0.2 full scale), grey where nothing moves. */
function errorPicture(error: Image): Image {
  const out = createImage(error.width, error.height, 3);
  for (let i = 0; i < error.width * error.height; i++) {
    const e = error.data[i]!;
    if (Number.isNaN(e)) out.data.set([0.25, 0.25, 0.25], i * 3);
    else {
      const t = Math.min(1, e / 0.2) * 2;
      out.data.set([Math.min(1, t), Math.max(0, t - 1), 0], i * 3);
    }
  }
  return out;
}

const { device } = await requestGpu();
const rows: Image[] = [];
for (const spec of positionals) {
  const [scene, path, seedText] = spec.split(':') as [string, string, string?];
  const seed = Number(seedText ?? 1);
  const frames = frame + 1;
  const sheet = createSceneRenderer(device, {
    scene,
    path,
    seed,
    frames,
    displaySize: [W, H],
    ratio: 2,
    samples: Number(values.samples),
  });
  const images = await sceneFrameSource(sheet).readFrame(frame);
  sheet.destroy();
  const flat = createSceneRenderer(device, {
    scene,
    path,
    seed,
    frames,
    displaySize: [W, H],
    ratio: 1,
    samples: 16,
    engineInputs: { noJitter: true },
  });
  const source = sceneFrameSource(flat);
  const previous = await source.readFrame(frame - 1);
  const current = await source.readFrame(frame);
  flat.destroy();
  const check = motionConsistency(previous.reference!, current.reference!, current.motion, 0.25);
  const { errorImage, reprojected: _reprojected, ...numbers } = check;
  console.log(JSON.stringify({ scene, path, seed, frame, ...numbers }));
  const show = (image: Image) => toDisplay(tonemapImage(image));
  const up = (image: Image, f: number) => zoomNearest(image, f);
  const r = W / images.color.width;
  rows.push(
    hstack([
      up(show(images.color), r * zoom),
      up(motionMagnitude(images.motion, 4), r * zoom),
      up(show(images.reference!), zoom),
      up(errorPicture(errorImage), zoom),
    ]),
  );
}
// Every panel is display-encoded already (toDisplay for images, ramps for the maps).
writePng(values.out, vstack(rows));
device.destroy();
