import { describe, expect, it } from 'vitest';
import { RowBinaryWriter, encodeRowBinary } from '../../src/store/clickhouse/row-binary.ts';

const hex = (chunks: Buffer[]) => Buffer.concat(chunks).toString('hex');

describe('RowBinary writer', () => {
  it('writes strings as a varint byte length and UTF-8, short and long, ASCII or not', () => {
    const w = new RowBinaryWriter();
    w.str('');
    w.str('ab');
    w.str('é');
    const long = 'x'.repeat(200);
    w.str(long);
    const wide = '東'.repeat(50); // 50 UTF-16 units, 150 UTF-8 bytes: past the one-byte shortcut
    w.str(wide);
    const out = Buffer.concat(w.finish());
    let at = 0;
    const next = (bytes: number) => out.subarray(at, (at += bytes));
    expect(next(1)).toEqual(Buffer.from([0]));
    expect(next(3)).toEqual(Buffer.from([2, 0x61, 0x62]));
    expect(next(3)).toEqual(Buffer.from([2, 0xc3, 0xa9]));
    expect(next(2)).toEqual(Buffer.from([0xc8, 0x01])); // 200 as a varint
    expect(next(200).toString()).toBe(long);
    expect(next(2)).toEqual(Buffer.from([0x96, 0x01])); // 150
    expect(next(150).toString()).toBe(wide);
    expect(at).toBe(out.length);
  });

  it('writes 64-bit integers little-endian, negative ones as two\'s complement, offsets from text', () => {
    const w = new RowBinaryWriter();
    w.u64(0);
    w.u64(2 ** 40 + 5);
    w.u64(-3);
    w.u64Text('42');
    w.u64Text('18446744073709551615');
    w.u32(4_000_000_000);
    w.u8(7);
    const out = Buffer.concat(w.finish());
    expect(out.readBigUInt64LE(0)).toBe(0n);
    expect(out.readBigUInt64LE(8)).toBe(2n ** 40n + 5n);
    expect(out.readBigInt64LE(16)).toBe(-3n);
    expect(out.readBigUInt64LE(24)).toBe(42n);
    expect(out.readBigUInt64LE(32)).toBe(2n ** 64n - 1n);
    expect(out.readUInt32LE(40)).toBe(4_000_000_000);
    expect(out[44]).toBe(7);
    expect(out.length).toBe(45);
  });

  it('writes arrays of strings and raw bytes with their lengths first', () => {
    const w = new RowBinaryWriter();
    w.strings(['a', 'bc']);
    w.bytes(Buffer.from('{"x":1}'));
    expect(hex(w.finish())).toBe(Buffer.from([2, 1, 0x61, 2, 0x62, 0x63, 7, ...Buffer.from('{"x":1}')]).toString('hex'));
  });

  it('gives the same bytes however the rows fall into chunks, rows larger than a chunk included', () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => ({ s: `row-${i}-${'ü'.repeat(i % 97)}`, big: i === 1_500 ? 'y'.repeat(400_000) : '', n: i * 1_000_003 }));
    const row = (w: RowBinaryWriter, r: (typeof rows)[number]) => {
      w.str(r.s);
      w.str(r.big);
      w.u64(r.n);
    };
    const chunks = [...encodeRowBinary(rows, row)];
    expect(chunks.length).toBeGreaterThan(2);
    const one = new RowBinaryWriter(64 * 1024 * 1024);
    for (const r of rows) row(one, r);
    expect(Buffer.concat(chunks).equals(Buffer.concat(one.finish()))).toBe(true);
  });
});
