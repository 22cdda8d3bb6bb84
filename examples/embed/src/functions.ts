/** The app's task functions, looked up by name on whichever tab runs a task. */
export const functions = {
  square: (x: number): number => x * x,
  sum: (xs: number[]): number => xs.reduce((a, b) => a + b, 0),
};
