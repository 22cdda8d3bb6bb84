import { describe, expect, it } from 'vitest';
import { Queue } from '../../src/runtime/base/queue.ts';

const drainAll = (q: Queue<number>, fits: (n: number) => boolean, max = Infinity) => {
  const out: number[] = [];
  q.drain(
    () => out.length < max,
    fits,
    (n) => out.push(n),
  );
  return out;
};

describe('Queue', () => {
  it('hands jobs out in order, skipping those that do not fit, which keep their place', () => {
    const q = new Queue<number>();
    for (let i = 0; i < 6; i++) q.push(i);
    expect(drainAll(q, (n) => n % 2 === 0)).toEqual([0, 2, 4]);
    expect(q.length).toBe(3);
    q.push(6);
    expect(drainAll(q, () => true, 2)).toEqual([1, 3]);
    expect(drainAll(q, () => true)).toEqual([5, 6]);
    expect(q.length).toBe(0);
  });

  it('removes matching jobs and answers some() over what is left', () => {
    const q = new Queue<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    expect(q.remove((n) => n >= 7)).toEqual([7, 8, 9]);
    expect(q.some((n) => n === 8)).toBe(false);
    expect(q.some((n) => n === 3)).toBe(true);
    expect(drainAll(q, () => true)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('lets a job queued while draining be seen by the same drain, and ignores a nested drain', () => {
    const q = new Queue<number>();
    q.push(1);
    const out: number[] = [];
    q.drain(
      () => true,
      () => true,
      (n) => {
        out.push(n);
        if (n < 3) q.push(n + 1);
        q.drain(
          () => true,
          () => true,
          () => out.push(-1),
        );
      },
    );
    expect(out).toEqual([1, 2, 3]);
  });

  it('stays correct across compactions of a long queue', () => {
    const q = new Queue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const seen: number[] = [];
    for (let round = 0; round < 50; round++)
      q.drain(
        () => seen.length < (round + 1) * 100,
        () => true,
        (n) => seen.push(n),
      );
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(q.length).toBe(0);
  });
});

describe('Queue as a line', () => {
  it('takes from the front and puts back at the front, in order, across compactions', () => {
    const q = new Queue<number>();
    for (let i = 0; i < 3000; i++) q.push(i);
    const taken = Array.from({ length: 2000 }, () => q.shift());
    expect(taken).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    q.unshift([1998, 1999]);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([1998, 1999, 2000]);
    expect(q.length).toBe(999);
    while (q.shift() !== undefined);
    expect(q.shift()).toBeUndefined();
  });
});
