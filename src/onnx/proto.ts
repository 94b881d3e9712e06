/**
 * The ONNX protobuf messages Uplift reads and writes, as a protobufjs descriptor: the subset of
 * onnx/onnx's onnx.proto (proto2, package onnx) that a network of convolutions, adds, concats,
 * activations and Q/DQ pairs needs. Field numbers are those of the ONNX specification; fields this
 * subset leaves out are skipped when a file is decoded (protobuf ignores unknown fields), so a
 * model written by another tool still decodes. Encoding and decoding are protobufjs's.
 */
import protobuf from 'protobufjs';
import { InputError } from '../core/errors.ts';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, INTS: 7 } as const;

export interface TensorProto {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  name?: string;
  rawData?: Uint8Array;
  dataLocation?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } } };
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: { key?: string; value?: string }[];
}

type Fields = Record<string, { type: string; id: number; rule?: 'repeated'; options?: object }>;

const one = (type: string, id: number) => ({ type, id });
const many = (type: string, id: number) => ({ type, id, rule: 'repeated' as const });
const packed = (type: string, id: number) => ({ ...many(type, id), options: { packed: true } });

const MESSAGES: Record<string, { fields: Fields; nested?: Record<string, { fields: Fields }> }> = {
  ModelProto: {
    fields: {
      irVersion: one('int64', 1),
      producerName: one('string', 2),
      producerVersion: one('string', 3),
      domain: one('string', 4),
      modelVersion: one('int64', 5),
      docString: one('string', 6),
      graph: one('GraphProto', 7),
      opsetImport: many('OperatorSetIdProto', 8),
      metadataProps: many('StringStringEntryProto', 14),
    },
  },
  OperatorSetIdProto: { fields: { domain: one('string', 1), version: one('int64', 2) } },
  StringStringEntryProto: { fields: { key: one('string', 1), value: one('string', 2) } },
  GraphProto: {
    fields: {
      node: many('NodeProto', 1),
      name: one('string', 2),
      initializer: many('TensorProto', 5),
      docString: one('string', 10),
      input: many('ValueInfoProto', 11),
      output: many('ValueInfoProto', 12),
      valueInfo: many('ValueInfoProto', 13),
    },
  },
  NodeProto: {
    fields: {
      input: many('string', 1),
      output: many('string', 2),
      name: one('string', 3),
      opType: one('string', 4),
      attribute: many('AttributeProto', 5),
      docString: one('string', 6),
      domain: one('string', 7),
    },
  },
  AttributeProto: {
    fields: {
      name: one('string', 1),
      f: one('float', 2),
      i: one('int64', 3),
      s: one('bytes', 4),
      t: one('TensorProto', 5),
      floats: many('float', 7),
      ints: many('int64', 8),
      strings: many('bytes', 9),
      type: one('int32', 20),
    },
  },
  TensorProto: {
    fields: {
      dims: many('int64', 1),
      dataType: one('int32', 2),
      floatData: packed('float', 4),
      int32Data: packed('int32', 5),
      int64Data: packed('int64', 7),
      name: one('string', 8),
      rawData: one('bytes', 9),
      docString: one('string', 12),
      dataLocation: one('int32', 14),
    },
  },
  ValueInfoProto: {
    fields: { name: one('string', 1), type: one('TypeProto', 2), docString: one('string', 3) },
  },
  TypeProto: {
    fields: { tensorType: one('Tensor', 1), denotation: one('string', 6) },
    nested: {
      Tensor: { fields: { elemType: one('int32', 1), shape: one('TensorShapeProto', 2) } },
    },
  },
  TensorShapeProto: {
    fields: { dim: many('Dimension', 1) },
    nested: {
      Dimension: {
        fields: {
          dimValue: one('int64', 1),
          dimParam: one('string', 2),
          denotation: one('string', 3),
        },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;

function model(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON({ nested: { onnx: { nested: MESSAGES } } }).lookupType(
    'onnx.ModelProto',
  );
  return modelType;
}

/** A ModelProto as bytes (protobuf wire format, as `.onnx` files hold it). */
export function encodeModel(message: ModelProto): Uint8Array {
  const type = model();
  const problem = type.verify(message);
  if (problem) throw new Error(`onnx: invalid ModelProto (${problem})`);
  return type.encode(type.fromObject(message)).finish();
}

/** Decodes an `.onnx` file's bytes; InputError naming `source` when they are not a ModelProto. */
export function decodeModel(bytes: Uint8Array, source: string): ModelProto {
  const type = model();
  let decoded: protobuf.Message;
  try {
    decoded = type.decode(bytes);
  } catch (e) {
    throw new InputError(`${source}: not an ONNX model (${(e as Error).message})`);
  }
  const object = type.toObject(decoded, { longs: Number, bytes: Uint8Array, arrays: true });
  const result = object as ModelProto;
  if (!result.graph) throw new InputError(`${source}: not an ONNX model (no graph)`);
  return result;
}
