/**
 * ClickHouse's RowBinary input format, written straight into Buffers: no JSON text, no string
 * escaping, no per-row strings to collect. Values go in the column order of the INSERT's column
 * list; a chunk boundary may fall anywhere (the server reads one byte stream), so rows are
 * written whole into a chunk and a chunk is handed out once it is full.
 */

/** Bytes per chunk handed to the HTTP body: large enough for few writes, small enough to stay flat. */
const CHUNK_BYTES = 256 * 1024;
const TWO_32 = 2 ** 32;

/**
 * Buffer#utf8Write: what Buffer#write calls once it has sorted out its optional arguments, at a
 * fraction of its cost per call (it is on Buffer.prototype, though not in Node's typings).
 */
type Utf8Write = (this: Buffer, value: string, offset: number) => number;
const utf8Write: Utf8Write =
  (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write ??
  function (this: Buffer, value: string, offset: number) {
    return this.write(value, offset, 'utf8');
  };

export class RowBinaryWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly done: Buffer[] = [];

  constructor(chunkBytes = CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Bytes written to the chunk in hand. */
  get size(): number {
    return this.pos;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.pos = 0;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  /*
   * Integers are written byte by byte: Buffer#writeUInt32LE is a call with checks and, for a
   * double, a boxed number each time; a typed-array store takes the low 8 bits of a small integer.
   */

  u32(value: number): void {
    this.ensure(4);
    this.word(value >>> 0, this.pos);
    this.pos += 4;
  }

  /** UInt64 or Int64 from a JS number (integral, |value| < 2^53; negative as two's complement). */
  u64(value: number): void {
    this.ensure(8);
    // ToUint32 keeps the low 32 bits (two's complement for a negative); the high word fits an int.
    this.word(value >>> 0, this.pos);
    this.word(Math.floor(value / TWO_32) | 0, this.pos + 4);
    this.pos += 8;
  }

  private word(value: number, at: number): void {
    const b = this.buf;
    b[at] = value;
    b[at + 1] = value >>> 8;
    b[at + 2] = value >>> 16;
    b[at + 3] = value >>> 24;
  }

  /** A UInt64 given as decimal text (Kafka offsets are strings). */
  u64Text(value: string): void {
    if (value.length < 16) return this.u64(Number(value));
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64LE(BigInt(value), this.pos);
  }

  private varint(value: number): void {
    this.ensure(5);
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.pos++] = value;
  }

  str(value: string): void {
    const n = value.length;
    if (n < 43) {
      // At most 3 bytes per UTF-16 unit: the UTF-8 length fits in one varint byte.
      this.ensure(1 + n * 3);
      const start = this.pos + 1;
      const written = n === 0 ? 0 : utf8Write.call(this.buf, value, start);
      this.buf[this.pos] = written;
      this.pos = start + written;
      return;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += utf8Write.call(this.buf, value, this.pos);
  }

  strings(values: readonly string[]): void {
    this.varint(values.length);
    for (const v of values) this.str(v);
  }

  /** Bytes as a String column (a raw payload kept as it came). */
  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Whether a chunk is finished and waiting for takeDone(). */
  get hasDone(): boolean {
    return this.done.length > 0;
  }

  /** The chunks finished so far, handed out once. */
  takeDone(): Buffer[] {
    return this.done.splice(0);
  }

  /** Everything written, the chunk in hand included; the writer starts afresh. */
  finish(): Buffer[] {
    const out = this.takeDone();
    if (this.pos > 0) out.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    this.pos = 0;
    return out;
  }
}

/** Encodes rows lazily: chunks come out as they fill, so a large insert never sits whole in memory. */
export function* encodeRowBinary<T>(records: readonly T[], row: (w: RowBinaryWriter, record: T) => void): Generator<Buffer> {
  const w = new RowBinaryWriter();
  for (const record of records) {
    row(w, record);
    if (w.hasDone) for (const chunk of w.takeDone()) yield chunk;
  }
  for (const chunk of w.finish()) yield chunk;
}
