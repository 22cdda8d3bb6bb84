/**
 * Amounts by resource name (`cpu`, `memory`, `gpu`, or any name an app chooses): what a task
 * costs, what a peer has, what it uses now. The one type for all three.
 */
export type Resources = Readonly<Record<string, number>>;
