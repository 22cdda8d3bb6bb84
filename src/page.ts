/** The page's document, where there is one (not in Node.js or a worker). */
export function pageDocument(): Document | undefined {
  return (globalThis as { document?: Document }).document;
}

/** Whether the page is hidden: its timers may then wake seconds late, or seconds apart. */
export function pageHidden(): boolean {
  return pageDocument()?.hidden === true;
}
