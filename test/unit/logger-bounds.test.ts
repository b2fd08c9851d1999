import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boundLogFields, createLogger, LOG_FIELD_MAX_CHARS } from '../../src/telemetry/logger.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; raw: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, raw: () => text, lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log lines never carry a whole oversized payload', () => {
  it('a 100 kB correlation id is cut, with a note of its original size', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    const huge = 'c'.repeat(100_000);
    logger.info({ correlationId: huge, nested: { detail: huge, list: ['ok', huge] } }, 'run stuck');
    const line = out.lines()[0]!;
    expect(out.raw().length).toBeLessThan(4 * LOG_FIELD_MAX_CHARS);
    expect(line['correlationId']).toBe(`${'c'.repeat(LOG_FIELD_MAX_CHARS)}… [truncated: 100000 chars]`);
    expect((line['nested'] as { detail: string }).detail).toMatch(/… \[truncated: 100000 chars\]$/);
    expect((line['nested'] as { list: string[] }).list[0]).toBe('ok');
    expect(line['msg']).toBe('run stuck');
  });

  it('cuts child bindings and error messages as well', () => {
    const out = capture();
    const huge = 'x'.repeat(50_000);
    const logger = createLogger('info', out.stream).child({ correlationId: huge });
    logger.error({ err: new Error(`bad value ${huge}`) }, 'decode failed');
    const line = out.lines()[0]!;
    expect(out.raw().length).toBeLessThan(8 * LOG_FIELD_MAX_CHARS);
    expect(line['correlationId']).toMatch(/truncated: 50000 chars/);
    const err = line['err'] as { message: string; type: string; stack: string };
    expect(err.type).toBe('Error');
    expect(err.message).toMatch(/^bad value x+… \[truncated: 50010 chars\]$/);
  });

  it('leaves short values, numbers and secrets redaction as they were', () => {
    const out = capture();
    createLogger('info', out.stream).info({ partition: 3, ok: true, routingKey: 'secret', team: 'billing' }, 'x');
    const line = out.lines()[0]!;
    expect(line).toMatchObject({ partition: 3, ok: true, routingKey: '[redacted]', team: 'billing' });
  });

  it('boundLogFields is pure and stops at a fixed depth and width', () => {
    const deep = { a: { b: { c: { d: { e: { f: 'deep' } } } } } };
    expect(JSON.stringify(boundLogFields(deep))).toContain('[depth limit]');
    const wide = Array.from({ length: 500 }, (_, i) => i);
    const bounded = boundLogFields(wide) as unknown[];
    expect(bounded.length).toBe(101);
    expect(bounded[100]).toBe('… 400 more items');
  });
});
