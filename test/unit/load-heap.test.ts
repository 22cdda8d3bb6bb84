// The orchestrator's peers ordered by load: the heap must always give what a scan would.
import { describe, expect, it } from 'vitest';
import { LoadBook } from '../../src/runtime/run/load-book.ts';
import { LoadHeap } from '../../src/schedule/load-heap.ts';
import { listView, loadOf, type PeerLoad, place } from '../../src/schedule/placement.ts';

describe('peers ordered by load', () => {
  it.each([
    ['the lower id', undefined],
    ['the orchestrator, then the lower id', 'p31'],
  ])('gives the least loaded (ties to %s) through random changes, as a scan would', (_, first) => {
    const heap = new LoadHeap<{ id: string; load: number }>((x) => x.load, first);
    const truth = new Map<string, number>();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let step = 0; step < 5000; step++) {
      const id = `p${Math.floor(random() * 60)}`;
      if (random() < 0.15) {
        heap.delete(id);
        truth.delete(id);
      } else {
        const load = Math.floor(random() * 10);
        heap.set({ id, load });
        truth.set(id, load);
      }
      const rank = (id: string) => (id === first ? '' : id);
      const best = [...truth].sort((a, b) => a[1] - b[1] || (rank(a[0]) < rank(b[0]) ? -1 : 1))[0];
      expect(heap.peek()?.id).toBe(best?.[0]);
      expect(heap.size).toBe(truth.size);
    }
  });

  it('places as a scan of the same peers would, from the book the orchestrator keeps', () => {
    const book = new LoadBook('p33');
    for (let i = 0; i < 50; i++)
      book.setPeer(`p${String(i).padStart(2, '0')}`, { cpu: 2 + (i % 3) });
    const bytes = new Map([['p17', 70_000]]);
    for (let i = 0; i < 400; i++) {
      const cost = i % 5 === 0 ? { cpu: 2 } : {};
      const query = { cost, inputBytes: i % 7 === 0 ? bytes : undefined };
      const fromBook = place(query, book.peers());
      const fromList = place(query, listView(book.all(), 'p33'));
      expect(fromBook).toEqual(fromList);
      if (fromBook.kind === 'peer') book.claim(fromBook.peer, cost);
      if (i % 3 === 0) book.release(`p${String(i % 50).padStart(2, '0')}`, {});
    }
    const loads = book.all().map(loadOf);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThan(2e6); // spread, not piled up
  });

  it('waits when nobody has room now, and never places what no peer could ever take', () => {
    const peers: PeerLoad[] = [{ id: 'a', capabilities: { gpu: 1 }, used: { gpu: 1 }, tasks: 1 }];
    expect(place({ cost: { gpu: 1 } }, listView(peers))).toEqual({ kind: 'wait' });
    expect(place({ cost: { gpu: 2 } }, listView(peers))).toMatchObject({ kind: 'never' });
  });
});
