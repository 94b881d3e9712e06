/**
 * The EXR header (OpenEXR file layout: magic, version/flags, attributes) for single-part scanline
 * images: parsing the attributes we need, skipping the rest, and writing the required set.
 */
import { ByteReader, ByteWriter, ExrFormatError } from './byte-reader.ts';

/** The first four bytes of every EXR file. */
export const EXR_MAGIC = 20000630;

/** Pixel types in their file order (0 = UINT, 1 = HALF, 2 = FLOAT). */
export const PIXEL_TYPES = ['uint', 'half', 'float'] as const;
export type ExrPixelType = (typeof PIXEL_TYPES)[number];

/** Compression methods in their file order (the `compression` attribute's byte). */
export const COMPRESSIONS = [
  'none',
  'rle',
  'zips',
  'zip',
  'piz',
  'pxr24',
  'b44',
  'b44a',
  'dwaa',
  'dwab',
] as const;
export type ExrCompression = (typeof COMPRESSIONS)[number];

/** Scanlines per chunk for each compression. */
export const LINES_PER_CHUNK: Record<ExrCompression, number> = {
  none: 1,
  rle: 1,
  zips: 1,
  zip: 16,
  piz: 32,
  pxr24: 16,
  b44: 32,
  b44a: 32,
  dwaa: 32,
  dwab: 256,
};

export interface ExrChannel {
  name: string;
  pixelType: ExrPixelType;
  /** Perceptually linear flag (informational only). */
  linear: boolean;
  xSampling: number;
  ySampling: number;
}

/** An inclusive pixel rectangle (EXR's box2i). */
export interface ExrBox {
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
}

export interface ExrHeader {
  /** Channels in file order (sorted by name, as EXR requires). */
  channels: ExrChannel[];
  compression: ExrCompression;
  dataWindow: ExrBox;
  displayWindow: ExrBox;
  lineOrder: 'increasing' | 'decreasing' | 'random';
}

const VERSION_TILED = 0x200;
const VERSION_LONG_NAMES = 0x400;
const VERSION_DEEP = 0x800;
const VERSION_MULTIPART = 0x1000;

const LINE_ORDERS = ['increasing', 'decreasing', 'random'] as const;

function readBox(reader: ByteReader): ExrBox {
  return { xMin: reader.i32(), yMin: reader.i32(), xMax: reader.i32(), yMax: reader.i32() };
}

function readChannelList(reader: ByteReader, end: number): ExrChannel[] {
  const channels: ExrChannel[] = [];
  while (reader.pos < end) {
    const name = reader.cstring(255);
    if (name === '') break;
    const typeIndex = reader.i32();
    const pixelType = PIXEL_TYPES[typeIndex];
    if (!pixelType)
      throw new ExrFormatError(`channel '${name}' has unknown pixel type ${typeIndex}`);
    const linear = reader.u8() !== 0;
    reader.take(3);
    const xSampling = reader.i32();
    const ySampling = reader.i32();
    channels.push({ name, pixelType, linear, xSampling, ySampling });
  }
  return channels;
}

/** Parses magic, version and header attributes; leaves `reader` at the chunk offset table. */
export function readHeader(reader: ByteReader): ExrHeader {
  if (reader.bytes.length < 8 || reader.u32() !== EXR_MAGIC) {
    throw new ExrFormatError('not an OpenEXR file (bad magic number)');
  }
  const version = reader.u32();
  if ((version & 0xff) !== 2) throw new ExrFormatError(`unsupported EXR version ${version & 0xff}`);
  if (version & VERSION_MULTIPART) throw new ExrFormatError('multi-part EXR not supported');
  if (version & VERSION_DEEP) throw new ExrFormatError('deep EXR not supported');
  if (version & VERSION_TILED) throw new ExrFormatError('tiled EXR not supported');
  const nameLength = version & VERSION_LONG_NAMES ? 255 : 31;

  let channels: ExrChannel[] | undefined;
  let compression: ExrCompression | undefined;
  let dataWindow: ExrBox | undefined;
  let displayWindow: ExrBox | undefined;
  let lineOrder: ExrHeader['lineOrder'] = 'increasing';
  for (;;) {
    const name = reader.cstring(nameLength);
    if (name === '') break;
    const type = reader.cstring(nameLength);
    const size = reader.i32();
    reader.need(size);
    const end = reader.pos + size;
    const value = new ByteReader(reader.bytes.subarray(0, end), reader.pos, `attribute '${name}'`);
    if (name === 'channels' && type === 'chlist') channels = readChannelList(value, end);
    else if (name === 'compression' && type === 'compression') {
      const index = value.u8();
      compression = COMPRESSIONS[index];
      if (!compression) throw new ExrFormatError(`unknown compression ${index}`);
    } else if (name === 'dataWindow' && type === 'box2i') dataWindow = readBox(value);
    else if (name === 'displayWindow' && type === 'box2i') displayWindow = readBox(value);
    else if (name === 'lineOrder' && type === 'lineOrder') {
      const index = value.u8();
      const order = LINE_ORDERS[index];
      if (!order) throw new ExrFormatError(`unknown line order ${index}`);
      lineOrder = order;
    }
    reader.pos = end;
  }
  if (!channels || channels.length === 0) throw new ExrFormatError('header has no channels');
  if (compression === undefined) throw new ExrFormatError('header has no compression attribute');
  if (!dataWindow) throw new ExrFormatError('header has no dataWindow');
  if (dataWindow.xMax < dataWindow.xMin || dataWindow.yMax < dataWindow.yMin) {
    throw new ExrFormatError('empty or inverted dataWindow');
  }
  return {
    channels,
    compression,
    dataWindow,
    displayWindow: displayWindow ?? dataWindow,
    lineOrder,
  };
}

function writeAttribute(writer: ByteWriter, name: string, type: string, value: ByteWriter): void {
  writer.cstring(name);
  writer.cstring(type);
  writer.i32(value.length);
  writer.bytes(value.result());
}

function boxValue(box: ExrBox): ByteWriter {
  const w = new ByteWriter();
  w.i32(box.xMin);
  w.i32(box.yMin);
  w.i32(box.xMax);
  w.i32(box.yMax);
  return w;
}

/** Writes magic, version and the required attributes of a single-part scanline file. */
export function writeHeader(writer: ByteWriter, header: ExrHeader): void {
  writer.i32(EXR_MAGIC);
  const longNames = header.channels.some((c) => c.name.length > 31);
  writer.i32(2 | (longNames ? VERSION_LONG_NAMES : 0));

  const channels = new ByteWriter();
  for (const c of header.channels) {
    channels.cstring(c.name);
    channels.i32(PIXEL_TYPES.indexOf(c.pixelType));
    channels.u8(c.linear ? 1 : 0);
    channels.bytes(new Uint8Array(3));
    channels.i32(c.xSampling);
    channels.i32(c.ySampling);
  }
  channels.u8(0);
  writeAttribute(writer, 'channels', 'chlist', channels);

  const compression = new ByteWriter();
  compression.u8(COMPRESSIONS.indexOf(header.compression));
  writeAttribute(writer, 'compression', 'compression', compression);
  writeAttribute(writer, 'dataWindow', 'box2i', boxValue(header.dataWindow));
  writeAttribute(writer, 'displayWindow', 'box2i', boxValue(header.displayWindow));

  const lineOrder = new ByteWriter();
  lineOrder.u8(LINE_ORDERS.indexOf(header.lineOrder));
  writeAttribute(writer, 'lineOrder', 'lineOrder', lineOrder);

  const aspect = new ByteWriter();
  aspect.f32(1);
  writeAttribute(writer, 'pixelAspectRatio', 'float', aspect);
  const center = new ByteWriter();
  center.f32(0);
  center.f32(0);
  writeAttribute(writer, 'screenWindowCenter', 'v2f', center);
  const width = new ByteWriter();
  width.f32(1);
  writeAttribute(writer, 'screenWindowWidth', 'float', width);
  writer.u8(0);
}
