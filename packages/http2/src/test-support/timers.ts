/** The process's active timers (`Timeout` resources), for leak checks. */
export function timers(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
}

/**
 * The timer count once it is below `limit`, or after 1 s: on a loaded machine the last calls'
 * timers (grpc-js deadlines, ...) are cleared a few ms after their outcomes resolve; a timer
 * leaked per call never is.
 */
export async function settledTimers(limit: number): Promise<number> {
  for (let polls = 0; polls < 500 && timers() >= limit; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return timers();
}
