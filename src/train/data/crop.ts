/**
 * Cropping a frame of a sequence directory for training, so that the crop is itself a valid frame
 * of a smaller sequence (DESIGN §4):
 *
 * - render and display rectangles must line up exactly: a render offset ox maps to the display
 *   offset ox · W / w, which must be an integer, so offsets (and crop sizes) are multiples of the
 *   grid step w / gcd(W, w) in render pixels (W / gcd(W, w) display pixels), per axis;
 * - jitter is unchanged (the crop starts on a whole render pixel);
 * - motion vectors are UV of the full frame; in the crop's UV they scale by full size / crop size;
 * - depth, reactive and color are cropped at the render offset, the reference at the display one.
 */
import type { FrameImages, SequenceHeader } from '../../core/frame.ts';
import { cropImage, type Image } from '../../core/image.ts';
import type { Size } from '../../core/quality.ts';

/** A crop rectangle in render pixels and the display rectangle it maps to. */
export interface CropRect {
  renderOffset: [number, number];
  renderSize: Size;
  displayOffset: [number, number];
  displaySize: Size;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Per axis: the smallest render and display steps at which render and display pixels align. */
export function cropGrid(header: Pick<SequenceHeader, 'renderSize' | 'displaySize'>): {
  render: Size;
  display: Size;
} {
  const g = [0, 1].map((a) => gcd(header.displaySize[a]!, header.renderSize[a]!));
  return {
    render: [header.renderSize[0] / g[0]!, header.renderSize[1] / g[1]!],
    display: [header.displaySize[0] / g[0]!, header.displaySize[1] / g[1]!],
  };
}

/**
 * The crop size for a wanted display size: per axis the largest multiple of the grid's display
 * step that is ≤ the wanted size (and ≤ the frame). Throws a RangeError naming `what` when no
 * step fits.
 */
export function cropSizeFor(
  header: Pick<SequenceHeader, 'renderSize' | 'displaySize'>,
  wanted: Size,
  what: string,
): { renderSize: Size; displaySize: Size } {
  const grid = cropGrid(header);
  const steps = [0, 1].map((a) =>
    Math.floor(Math.min(wanted[a]!, header.displaySize[a]!) / grid.display[a]!),
  );
  if (steps[0]! < 1 || steps[1]! < 1) {
    throw new RangeError(
      `${what}: a ${wanted[0]}x${wanted[1]} crop cannot align render ${header.renderSize.join('x')} with display ${header.displaySize.join('x')} (display steps ${grid.display.join('x')})`,
    );
  }
  return {
    renderSize: [steps[0]! * grid.render[0]!, steps[1]! * grid.render[1]!],
    displaySize: [steps[0]! * grid.display[0]!, steps[1]! * grid.display[1]!],
  };
}

/** A crop of the given size at a uniformly random grid position (`random` in [0, 1)). */
export function randomCrop(
  header: Pick<SequenceHeader, 'renderSize' | 'displaySize'>,
  size: { renderSize: Size; displaySize: Size },
  random: () => number,
): CropRect {
  const grid = cropGrid(header);
  const offset = [0, 1].map((a) => {
    const positions = (header.renderSize[a]! - size.renderSize[a]!) / grid.render[a]! + 1;
    return Math.floor(random() * positions);
  });
  return {
    renderOffset: [offset[0]! * grid.render[0]!, offset[1]! * grid.render[1]!],
    renderSize: size.renderSize,
    displayOffset: [offset[0]! * grid.display[0]!, offset[1]! * grid.display[1]!],
    displaySize: size.displaySize,
  };
}

/** Motion vectors of a crop: cropped, and rescaled from full-frame UV to crop UV. */
function cropMotion(motion: Image, full: Size, rect: CropRect): Image {
  const out = cropImage(motion, ...rect.renderOffset, ...rect.renderSize);
  const scale = [full[0] / rect.renderSize[0], full[1] / rect.renderSize[1]];
  for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i]! * scale[i % 2]!;
  return out;
}

/** Crops one frame's images (render rectangle for inputs, display rectangle for the reference). */
export function cropFrameImages(
  images: FrameImages,
  header: Pick<SequenceHeader, 'renderSize'>,
  rect: CropRect,
): FrameImages {
  const atRender = (image: Image) => cropImage(image, ...rect.renderOffset, ...rect.renderSize);
  const out: FrameImages = {
    color: atRender(images.color),
    depth: atRender(images.depth),
    motion: cropMotion(images.motion, header.renderSize, rect),
  };
  if (images.reactive) out.reactive = atRender(images.reactive);
  if (images.reference) {
    out.reference = cropImage(images.reference, ...rect.displayOffset, ...rect.displaySize);
  }
  return out;
}
