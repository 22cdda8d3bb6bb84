import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, decode, encode, MAX_DEPTH } from '../../../src/net/codec.ts';

function roundTrip(value: unknown, attachmentBytes?: number): unknown {
  const { head, attachments } = encode(
    value,
    attachmentBytes === undefined ? {} : { attachmentBytes },
  );
  // What the receiver holds: each attachment in a buffer of its own, at its exact size.
  return decode(
    head.slice(),
    attachments.map((a) => (a as Uint8Array).slice().buffer as ArrayBuffer),
  );
}

describe('codec', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['booleans', [true, false]],
    ['integers', [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, Number.MAX_SAFE_INTEGER]],
    [
      'floats',
      [0.5, -1e-300, Number.MAX_VALUE, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    ],
    ['strings', ['', 'héllo', '😀 emoji', 'x'.repeat(100_000)]],
    ['nested', { a: [1, { b: [null, 'c', { d: undefined }] }], e: {} }],
    [
      'Map',
      new Map<unknown, unknown>([
        [1, 'a'],
        ['k', new Map([[{ o: 1 }, [2]]])],
      ]),
    ],
    ['Set', new Set([1, 'two', 3])],
    ['Date', new Date(1_700_000_000_123)],
    ['bigint', [0n, -(2n ** 100n), 2n ** 64n]],
    ['ArrayBuffer', new Uint8Array([1, 2, 3]).buffer],
    ['Uint8Array', new Uint8Array([0, 255, 7])],
    ['Int8Array', new Int8Array([-128, 127])],
    ['Uint8ClampedArray', new Uint8ClampedArray([0, 255])],
    ['Int16Array', new Int16Array([-2, 3])],
    ['Uint16Array', new Uint16Array([65535])],
    ['Int32Array', new Int32Array([-5, 6])],
    ['Uint32Array', new Uint32Array([2 ** 32 - 1])],
    ['Float32Array', new Float32Array([0.5, -1.25])],
    ['Float64Array', new Float64Array([Math.PI, -0])],
    ['BigInt64Array', new BigInt64Array([-1n, 2n ** 62n])],
    ['BigUint64Array', new BigUint64Array([2n ** 64n - 1n])],
    ['DataView', new DataView(new Uint8Array([4, 5, 6]).buffer)],
  ])('round-trips %s with its type', (_, value) => {
    expect(roundTrip(value)).toEqual(value);
    expect(Object.prototype.toString.call(roundTrip(value))).toBe(
      Object.prototype.toString.call(value),
    );
  });

  it('keeps -0 and NaN', () => {
    const out = roundTrip([-0, Number.NaN]) as number[];
    expect(Object.is(out[0], -0)).toBe(true);
    expect(Number.isNaN(out[1])).toBe(true);
  });

  it('sends only the viewed part of a typed array', () => {
    const big = new Float64Array([1, 2, 3, 4]);
    expect(roundTrip(big.subarray(1, 3))).toEqual(new Float64Array([2, 3]));
  });

  it('moves large binaries out of line, unaligned views included, and back intact', () => {
    const payload = new Uint8Array(100_001).map((_, i) => i % 253);
    const floats = new Float64Array(5000).map((_, i) => i / 3);
    const value = { payload, floats, buffer: payload.buffer, small: new Uint8Array(3) };
    const { attachments } = encode(value);
    expect(attachments).toHaveLength(3);
    expect((attachments[0] as Uint8Array).buffer).toBe(payload.buffer); // a view, not a copy
    expect(roundTrip(value)).toEqual(value);
  });

  it('treats __proto__ keys as data', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    const out = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
  });

  it('refuses what cannot travel, with CodecError', () => {
    expect(() => encode(() => 1)).toThrow(CodecError);
    expect(() => encode(Symbol('s'))).toThrow(CodecError);
    expect(() => encode(new (class Point {})())).toThrow(/Point/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encode(cyclic)).toThrow(/contains itself/);
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH + 1; i++) deep = [deep];
    expect(() => encode(deep)).toThrow(/deeper/);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(roundTrip([shared, shared])).toEqual([{ x: 1 }, { x: 1 }]);
  });

  it('round-trips arbitrary values (property)', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withMap: true,
          withSet: true,
          withDate: true,
          withTypedArray: true,
          withBigInt: true,
          withNullPrototype: false,
        }),
        (value) => {
          expect(roundTrip(value, 8)).toEqual(value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws anything but CodecError on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 3 }),
        (bytes, atts) => {
          try {
            decode(
              bytes,
              atts.map((a) => a.buffer as ArrayBuffer),
            );
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('never throws anything but CodecError on truncated or corrupted messages (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.anything({ withMap: true, withTypedArray: true }),
        fc.nat(),
        fc.nat(255),
        (value, cut, flip) => {
          const { head } = encode(value);
          const truncated = head.slice(0, cut % (head.length + 1));
          const corrupted = head.slice();
          const at = cut % Math.max(1, corrupted.length);
          if (corrupted.length > 0) corrupted[at] = (corrupted[at] as number) ^ flip;
          for (const bytes of [truncated, corrupted]) {
            try {
              decode(bytes);
            } catch (error) {
              expect(error).toBeInstanceOf(CodecError);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('does not allocate for counts the data cannot hold', () => {
    // An array claiming 2^32-1 items in 5 bytes.
    expect(() => decode(new Uint8Array([7, 0xff, 0xff, 0xff, 0xff]))).toThrow(CodecError);
  });
});
