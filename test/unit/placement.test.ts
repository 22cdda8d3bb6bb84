import { describe, expect, it } from 'vitest';
import {
  addCosts,
  canEverFit,
  fitsNow,
  isFree,
  LOCALITY_MIN_BYTES,
  type PeerLoad,
  place,
  subtractCosts,
} from '../../src/schedule/placement.ts';

const peer = (
  id: string,
  cpu: number,
  used = 0,
  tasks = 0,
  extra: Record<string, number> = {},
): PeerLoad => ({
  id,
  capabilities: { cpu, ...extra },
  used: { cpu: used },
  tasks,
});

describe('placement', () => {
  it('checks costs against capabilities, missing resources counting as none', () => {
    expect(canEverFit({ cpu: 2 }, { cpu: 2 })).toBe(true);
    expect(canEverFit({ cpu: 3 }, { cpu: 2 })).toBe(false);
    expect(canEverFit({ gpu: 1 }, { cpu: 8 })).toBe(false);
    expect(canEverFit({}, {})).toBe(true);
    expect(fitsNow({ cpu: 1 }, { cpu: 2 }, { cpu: 1 })).toBe(true);
    expect(fitsNow({ cpu: 2 }, { cpu: 2 }, { cpu: 1 })).toBe(false);
    expect(addCosts({ cpu: 1 }, { cpu: 2, gpu: 1 })).toEqual({ cpu: 3, gpu: 1 });
  });

  it('honours a pin, even to a busy peer, and refuses an absent or too small one', () => {
    const peers = [peer('a', 4, 4, 9), peer('b', 4)];
    expect(place({ cost: { cpu: 1 }, pinned: 'a' }, peers)).toEqual({ kind: 'peer', peer: 'a' });
    expect(place({ cost: {}, pinned: 'z' }, peers)).toMatchObject({ kind: 'never' });
    expect(place({ cost: { cpu: 8 }, pinned: 'b' }, peers)).toMatchObject({ kind: 'never' });
  });

  it('fails when no peer could ever fit, waits when the capable ones are busy', () => {
    expect(place({ cost: { cpu: 16 } }, [peer('a', 4), peer('b', 8)])).toMatchObject({
      kind: 'never',
    });
    expect(place({ cost: { cpu: 2 } }, [peer('a', 4, 3), peer('b', 1)])).toEqual({ kind: 'wait' });
    expect(place({ cost: { cpu: 2 } }, [peer('a', 4, 3), peer('b', 2)])).toEqual({
      kind: 'peer',
      peer: 'b',
    });
  });

  it('picks the least loaded when inputs do not matter', () => {
    expect(
      place({ cost: {} }, [peer('a', 4, 0, 5), peer('b', 4, 0, 1), peer('c', 4, 0, 3)]),
    ).toEqual({ kind: 'peer', peer: 'b' });
    expect(place({ cost: { cpu: 1 } }, [peer('a', 4, 3), peer('b', 4, 1)])).toEqual({
      kind: 'peer',
      peer: 'b',
    });
  });

  it('prefers the holder of large inputs even when it is busier', () => {
    const inputBytes = new Map([['a', LOCALITY_MIN_BYTES * 4]]);
    expect(place({ cost: {}, inputBytes }, [peer('a', 4, 0, 30), peer('b', 4, 0, 0)])).toEqual({
      kind: 'peer',
      peer: 'a',
    });
  });

  it('prefers the holder of small inputs only while it is about as idle as the rest', () => {
    const inputBytes = new Map([['a', 100]]);
    expect(place({ cost: {}, inputBytes }, [peer('a', 4, 0, 2), peer('b', 4, 0, 1)])).toEqual({
      kind: 'peer',
      peer: 'a',
    });
    expect(place({ cost: {}, inputBytes }, [peer('a', 4, 0, 9), peer('b', 4, 0, 1)])).toEqual({
      kind: 'peer',
      peer: 'b',
    });
  });

  it('never picks a holder without room for the cost', () => {
    const inputBytes = new Map([['a', LOCALITY_MIN_BYTES * 10]]);
    expect(place({ cost: { cpu: 2 }, inputBytes }, [peer('a', 2, 1), peer('b', 2)])).toEqual({
      kind: 'peer',
      peer: 'b',
    });
  });
});

describe('resource arithmetic', () => {
  it('tells a free cost, and gives back what a task used', () => {
    expect(isFree({})).toBe(true);
    expect(isFree({ cpu: 0 })).toBe(false);
    const used = addCosts({ cpu: 1 }, { cpu: 2, gpu: 1 });
    expect(subtractCosts(used, { cpu: 2, gpu: 1 })).toEqual({ cpu: 1, gpu: 0 });
    expect(used).toEqual({ cpu: 3, gpu: 1 }); // not changed in place
  });
});
