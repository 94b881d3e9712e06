/** Sequence I/O: OpenEXR and PNG images, role-aware frame readers, sequence directories. */
export { decodeExr, PIXEL_TYPE_SIZE, type DecodedExr, type ExrChannelData } from './exr/decode.ts';
export { encodeExr, DEFAULT_CHANNEL_NAMES, type ExrWriteOptions } from './exr/encode.ts';
export {
  defaultExrChannels,
  exrChannelsToImage,
  readExr,
  readExrFile,
  writeExr,
  type ExrImage,
} from './exr/file.ts';
export { floatToHalf, halfToFloat } from '../core/half.ts';
export type { ExrChannel, ExrCompression, ExrHeader, ExrPixelType } from './exr/header.ts';
export {
  checkPngLayout,
  decodePng,
  encodePng,
  readPng,
  writePng,
  type PngImage,
  type PngLayout,
  type PngWriteOptions,
} from './png.ts';
export { readColor, readDepth, readMotion, readReactive, readReference } from './frame-files.ts';
export {
  formatSequenceJson,
  parseSequenceJson,
  validateFrameParams,
  validateSequenceHeader,
  type SequenceDescription,
} from './sequence-json.ts';
export {
  createSequenceWriter,
  FRAME_ROLES,
  frameFileName,
  openSequence,
  writeOutputFrame,
  type FrameRole,
  type SequenceWriter,
  type SequenceWriterOptions,
} from './sequence.ts';
export { readInputFile } from './read-file.ts';
export {
  checkDeclaredSize,
  MAX_IMAGE_SAMPLES,
  MAX_IMAGE_SIDE,
  type ImageSizeLimit,
} from './limits.ts';
