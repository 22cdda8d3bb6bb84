/** The app's task functions, looked up by name on whichever tab runs a task. */
export const functions = {
  square: (x: number): number => x * x,
  sum: (xs: number[]): number => xs.reduce((a, b) => a + b, 0),
  /** `n` bytes, byte i being i mod 251: a large value for another tab to take. */
  bytes: (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = i % 251;
    return out;
  },
  checksum: (data: Uint8Array): number => {
    let sum = 0;
    for (const byte of data) sum = (sum + byte) % 1_000_003;
    return sum;
  },
};
