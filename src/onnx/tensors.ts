/**
 * ONNX TensorProto values: written as little-endian `raw_data` (f32 and int8), read from
 * `raw_data` or the typed fields (`float_data`, `int32_data`) another writer may use.
 */
import { InputError } from '../core/errors.ts';
import { DataType, type TensorProto } from './proto.ts';

/** A constant tensor read from a model: its type, shape and values. */
export interface ConstantTensor {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  /** Values as numbers (float32 exactly; integers exactly). */
  readonly values: Float32Array | Int32Array;
}

const TYPE_NAMES: Record<number, string> = {
  [DataType.FLOAT]: 'float',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
};

/** A data type's name for messages ("type 11" for the ones not read here). */
export function dataTypeName(dataType: number | undefined): string {
  return TYPE_NAMES[dataType ?? 0] ?? `type ${dataType ?? 'undefined'}`;
}

/** An f32 tensor with shape `dims`. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>) {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: raw } satisfies TensorProto;
}

/** An int8 tensor with shape `dims` (values must lie in [−128, 127]). */
export function int8Tensor(name: string, dims: readonly number[], values: ArrayLike<number>) {
  const raw = new Uint8Array(Int8Array.from(values).buffer);
  return { name, dims: [...dims], dataType: DataType.INT8, rawData: raw } satisfies TensorProto;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/**
 * The values of an f32, int8, uint8 or int32 TensorProto. `where` names it in errors
 * (external data, other types, a length that does not match the shape).
 */
export function readTensor(tensor: TensorProto, where: string): ConstantTensor {
  const name = tensor.name ?? '';
  const dims = (tensor.dims ?? []).map(Number);
  const dataType = tensor.dataType ?? 0;
  if (tensor.dataLocation === 1) throw new InputError(`${where}: external tensor data is not read`);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new InputError(`${where}: bad shape [${dims.join(', ')}]`);
  }
  const count = elementCount(dims);
  const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : undefined;
  const view = raw && new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let values: Float32Array | Int32Array;
  const bytesPer: Record<number, number> = {
    [DataType.FLOAT]: 4,
    [DataType.UINT8]: 1,
    [DataType.INT8]: 1,
    [DataType.INT32]: 4,
  };
  const size = bytesPer[dataType];
  if (size === undefined) {
    throw new InputError(
      `${where}: ${dataTypeName(dataType)} tensors are not read (float, int8, uint8 and int32 are)`,
    );
  }
  if (view && view.byteLength !== count * size) {
    throw new InputError(
      `${where}: ${view.byteLength} bytes of data for shape [${dims.join(', ')}] of ${dataTypeName(dataType)}`,
    );
  }
  if (dataType === DataType.FLOAT) {
    values = view
      ? Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true))
      : Float32Array.from(tensor.floatData ?? []);
  } else if (view) {
    const get: (i: number) => number = {
      [DataType.UINT8]: (i: number) => view.getUint8(i),
      [DataType.INT8]: (i: number) => view.getInt8(i),
      [DataType.INT32]: (i: number) => view.getInt32(i * 4, true),
    }[dataType]!;
    values = Int32Array.from({ length: count }, (_, i) => get(i));
  } else {
    values = Int32Array.from(tensor.int32Data ?? []);
  }
  if (values.length !== count) {
    throw new InputError(
      `${where}: ${values.length} values for shape [${dims.join(', ')}] (${count} needed)`,
    );
  }
  return { name, dataType, dims, values };
}
