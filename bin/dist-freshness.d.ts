/** See dist-freshness.js. */
export function distIsStale(root: string): boolean;
