// Word counting, shared by the demo's tasks and its test.

/** Word counts of one chunk of text. */
export function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[a-z']+/g) ?? []) {
    const w = word.replace(/^'+|'+$/g, '');
    if (w.length > 0) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return counts;
}

/** The `top` most frequent words over all chunks' counts. */
export function topWords(counts: Map<string, number>[], top: number): [string, number][] {
  const total = new Map<string, number>();
  for (const part of counts) for (const [w, n] of part) total.set(w, (total.get(w) ?? 0) + n);
  return [...total].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, top);
}
