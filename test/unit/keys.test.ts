import { describe, expect, it } from 'vitest';
import { attemptKey, dagPrefix, dataKey } from '../../src/data/keys.ts';
import { ValueCache } from '../../src/data/value-cache.ts';

describe('data keys', () => {
  it('never give two pairs of ids one key, whatever characters the ids hold', () => {
    const pairs: [string, string][] = [
      ['a\u0000b', 'c'],
      ['a', 'b\u0000c'],
      ['1:a', 'b'],
      ['1', ':ab'],
      ['ab', 'c'],
      ['a', 'bc'],
    ];
    const keys = pairs.map(([d, t]) => dataKey(d, t));
    expect(new Set(keys).size).toBe(pairs.length);
    for (const [d, t] of pairs) expect(dataKey(d, t).startsWith(dagPrefix(d))).toBe(true);
    expect(dataKey('ab', 'c').startsWith(dagPrefix('a'))).toBe(false);
    expect(attemptKey('d', 't\u00001', 2)).not.toBe(attemptKey('d', 't', 1));
  });
});

describe('ValueCache', () => {
  it('evicts the oldest value first but gives one read since a second chance', () => {
    const cache = new ValueCache(30);
    cache.set('d', 'a', 'A', 10);
    cache.set('d', 'b', 'B', 10);
    cache.set('d', 'c', 'C', 10);
    expect(cache.get('d', 'a')).toEqual({ value: 'A' });
    cache.set('d', 'e', 'E', 10); // over budget: a was read, so b goes
    expect(cache.get('d', 'b')).toBeUndefined();
    expect(cache.get('d', 'a')).toEqual({ value: 'A' });
    expect(cache.bytes).toBe(30);
    cache.set('d', 'f', 'F', 25); // c and e go, then a (its second chance spent): f stays
    expect(cache.bytes).toBeLessThanOrEqual(30);
    expect(cache.get('d', 'f')).toEqual({ value: 'F' });
    expect(cache.size).toBe(1);
  });

  it('keeps DAGs whose ids share a prefix apart when one is cleared', () => {
    const cache = new ValueCache();
    cache.set('a', 'bc', 1, 1);
    cache.set('ab', 'c', 2, 1);
    cache.clearDag('a');
    expect(cache.get('a', 'bc')).toBeUndefined();
    expect(cache.get('ab', 'c')).toEqual({ value: 2 });
  });

  it('counts a replaced value once, keeps a held big value until its last release, and clears one DAG whole', () => {
    const cache = new ValueCache(30);
    cache.set('d', 'a', 'A', 10);
    cache.set('d', 'a', 'A2', 12); // replaced: its old bytes go
    expect(cache.bytes).toBe(12);
    expect(cache.get('d', 'a')).toEqual({ value: 'A2' });
    cache.set('d', 'big', 'B', 100); // too big to cache...
    expect(cache.get('d', 'big')).toBeUndefined();
    cache.hold('d', 'big', 'B'); // ...but held while it is written
    cache.hold('d', 'big', 'B');
    cache.release('d', 'big');
    expect(cache.get('d', 'big')).toEqual({ value: 'B' });
    cache.release('d', 'big');
    expect(cache.get('d', 'big')).toBeUndefined();
    cache.hold('d', 'big', 'B');
    cache.set('e', 'a', 'E', 5);
    cache.clearDag('d');
    expect(cache.get('d', 'a')).toBeUndefined();
    expect(cache.get('d', 'big')).toBeUndefined();
    expect(cache.get('e', 'a')).toEqual({ value: 'E' });
    expect(cache.bytes).toBe(5);
    expect(cache.size).toBe(1);
    cache.delete('e', 'a');
    expect(cache.bytes).toBe(0);
    expect(cache.size).toBe(0);
  });
});
