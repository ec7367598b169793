/** Counts of Node's active resources, for the leak specs. */

/**
 * Active handles and requests by type (sockets, timers, ...), as Node counts them. Immediates
 * are left out: they run on the next turn by nature and are never a lasting resource.
 */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (type !== 'Immediate') counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** Resource types of which more are active now than in `before`, with both counts. */
export function grown(before: Record<string, number>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [type, count] of Object.entries(activeResources())) {
    if (count > (before[type] ?? 0)) result[type] = `${before[type] ?? 0} -> ${count}`;
  }
  return result;
}
