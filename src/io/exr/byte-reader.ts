/**
 * Bounds-checked little-endian reading of EXR bytes. Every read past the end throws an
 * `ExrFormatError` (never a DataView RangeError), so a truncated file always reports as such.
 */

/** Something in EXR bytes is malformed; the decoder prefixes the file name when it reports it. */
export class ExrFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExrFormatError';
  }
}

export class ByteReader {
  private readonly view: DataView;
  /** The current read position in bytes. */
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
    /** What the bytes are, for error messages (e.g. "header", "chunk 3"). */
    readonly what = 'file',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new ExrFormatError(`truncated ${this.what}: needs ${n} bytes at offset ${this.pos}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** An unsigned 64-bit integer as a number (exact below 2^53; larger values are out of range anyway). */
  u64(): number {
    this.need(8);
    const low = this.view.getUint32(this.pos, true);
    const high = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return high * 2 ** 32 + low;
  }

  /** `n` bytes as a view (not a copy). */
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A NUL-terminated string of at most `maxLength` characters. */
  cstring(maxLength: number): string {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) throw new ExrFormatError(`truncated ${this.what}: unterminated name`);
    if (end - this.pos > maxLength) {
      throw new ExrFormatError(`name longer than ${maxLength} characters at offset ${this.pos}`);
    }
    const s = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

/** Little-endian byte writer that grows as needed. */
export class ByteWriter {
  private buffer = new Uint8Array(1024);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buffer[this.length++] = v;
  }

  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }

  u64(v: number): void {
    this.reserve(8);
    this.view.setUint32(this.length, v % 2 ** 32, true);
    this.view.setUint32(this.length + 4, Math.floor(v / 2 ** 32), true);
    this.length += 8;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** A NUL-terminated Latin-1 string. */
  cstring(s: string): void {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i) & 0xff);
    this.u8(0);
  }

  /** Overwrites 8 bytes at `offset` (for the chunk offset table, filled in after the chunks). */
  setU64(offset: number, v: number): void {
    this.view.setUint32(offset, v % 2 ** 32, true);
    this.view.setUint32(offset + 4, Math.floor(v / 2 ** 32), true);
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
