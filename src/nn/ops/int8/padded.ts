/**
 * The padded int8 layout of the subgroup-matrix kernels (./matrix.ts): packed int8 words like the
 * standard layout, but each pixel's channels padded with zeros to a whole number of 32-byte rows
 * (the K of one i8 matrix; 16 bytes for a tensor only down2x2 kernels read), a zero border of one
 * pixel on every side, and each row's interior rounded up to a multiple of 32 pixels. Then the left matrix of 16 neighbouring output pixels for
 * any tap and K chunk is one strided matrix load from the tensor itself: stride one pixel pitch
 * (two for down2x2), always ≥ 32 bytes, as Dawn requires, and always in bounds.
 *
 * The border, the padding channels and the padded columns are zero because the buffer is
 * allocated zeroed and no kernel writes them (the epilogues write interior pixels and real
 * channel words only). A tensor is never aliased with another; reusing a buffer for another
 * tensor would have to clear it first.
 */
import { packedGroups } from '../../../core/int8.ts';
import { checkShape, shapeString, type TensorShape } from '../../../core/tensor.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';

/** Where the words of an int8 tensor lie: any layout, the standard one too. */
export interface Int8Layout {
  /** Zero pixels before the first row and column (and after the last). */
  readonly border: number;
  /** Pixels per stored row, border and padding included. */
  readonly rowPixels: number;
  /** Stored rows, border included. */
  readonly rows: number;
  /** Words per pixel. */
  readonly pitchWords: number;
}

/** A packed int8 tensor stored in the padded layout; height and width are the logical ones. */
export interface GpuPaddedInt8Tensor extends GpuInt8Tensor {
  readonly padding: Int8Layout;
}

/** Bytes of one K chunk of an i8 matrix: a pixel's pitch is a multiple of it, or half of it. */
export const PADDED_PITCH_BYTES = 32;
/**
 * The narrow pitch of a tensor of at most 16 channels that only down2x2 kernels read: their span
 * of 2 pixels is then one 32-byte chunk at a 32-byte stride (half the bytes and multiplies).
 */
export const NARROW_PITCH_BYTES = 16;
/** The zero border: the widest padding of a consumer (conv3x3's one pixel). */
export const PADDED_BORDER = 1;
/**
 * Row interiors are a multiple of this: a down2x2 reads 2 × 16 input pixels per 16-pixel tile,
 * and a kernel's last tile of a row may run past the width.
 */
export const PADDED_ROW_MULTIPLE = 32;

/** The pitch of a padded tensor: its channels rounded up to 32 bytes, or the narrow pitch. */
export function paddedPitchBytes(channels: number, narrow = false): number {
  if (narrow && channels <= NARROW_PITCH_BYTES) return NARROW_PITCH_BYTES;
  return Math.ceil(channels / PADDED_PITCH_BYTES) * PADDED_PITCH_BYTES;
}

/** The padded layout of a tensor of `shape` (its pitch: `paddedPitchBytes`). */
export function paddedLayout(shape: TensorShape, pitchBytes?: number): Int8Layout {
  checkShape(shape);
  pitchBytes ??= paddedPitchBytes(shape.channels);
  if (pitchBytes % 4 !== 0 || pitchBytes < shape.channels) {
    throw new RangeError(`int8 padded ${shapeString(shape)}: pitch of ${pitchBytes} bytes`);
  }
  return {
    border: PADDED_BORDER,
    rowPixels:
      Math.ceil(shape.width / PADDED_ROW_MULTIPLE) * PADDED_ROW_MULTIPLE + 2 * PADDED_BORDER,
    rows: shape.height + 2 * PADDED_BORDER,
    pitchWords: pitchBytes / 4,
  };
}

/** The layout of any int8 tensor: its padding, or the standard layout (no border, no padding). */
export function int8Layout(t: GpuInt8Tensor): Int8Layout {
  if ('padding' in t) return (t as GpuPaddedInt8Tensor).padding;
  return { border: 0, rowPixels: t.width, rows: t.height, pitchWords: packedGroups(t.channels) };
}

/** True for a tensor in the padded layout. */
export function isPadded(t: GpuInt8Tensor): t is GpuPaddedInt8Tensor {
  return 'padding' in t;
}

/** Words of a tensor in `layout`. */
export function layoutWords(layout: Int8Layout): number {
  return layout.rows * layout.rowPixels * layout.pitchWords;
}

/** A zero-filled padded int8 tensor (storage, copy source and destination). */
export function createPaddedInt8Tensor(
  device: GPUDevice,
  shape: TensorShape,
  label?: string,
  pitchBytes?: number,
): GpuPaddedInt8Tensor {
  const padding = paddedLayout(shape, pitchBytes);
  const buffer = device.createBuffer({
    label,
    size: layoutWords(padding) * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const { channels, height, width } = shape;
  return { channels, height, width, buffer, packed: 'int8x4', padding };
}

/**
 * CPU: the words of a standard packed tensor (`shape`) moved into `layout` (zero elsewhere), or
 * back (`toStandard`): the reference of the pad pass and how tests read a padded tensor.
 */
export function repackInt8Words(
  words: Uint32Array,
  shape: TensorShape,
  layout: Int8Layout,
  toStandard = false,
): Uint32Array {
  const groups = packedGroups(shape.channels);
  const standardWords = shape.height * shape.width * groups;
  const want = toStandard ? layoutWords(layout) : standardWords;
  if (words.length !== want || layout.pitchWords < groups) {
    throw new RangeError(
      `int8 repack: ${words.length} words for ${shapeString(shape)} (want ${want}, pitch ${layout.pitchWords} words)`,
    );
  }
  const out = new Uint32Array(toStandard ? standardWords : layoutWords(layout));
  for (let y = 0; y < shape.height; y++) {
    for (let x = 0; x < shape.width; x++) {
      const s = (y * shape.width + x) * groups;
      const p = ((y + layout.border) * layout.rowPixels + x + layout.border) * layout.pitchWords;
      for (let g = 0; g < groups; g++) {
        if (toStandard) out[s + g] = words[p + g]!;
        else out[p + g] = words[s + g]!;
      }
    }
  }
  return out;
}

/** True where every word of a padded tensor outside its interior pixels' real words is zero. */
export function paddingIsZero(words: Uint32Array, shape: TensorShape, layout: Int8Layout) {
  const groups = packedGroups(shape.channels);
  for (let i = 0; i < words.length; i++) {
    const q = Math.floor(i / layout.pitchWords);
    const y = Math.floor(q / layout.rowPixels) - layout.border;
    const x = (q % layout.rowPixels) - layout.border;
    const inside = y >= 0 && y < shape.height && x >= 0 && x < shape.width;
    if ((!inside || i % layout.pitchWords >= groups) && words[i] !== 0) return false;
  }
  return true;
}
