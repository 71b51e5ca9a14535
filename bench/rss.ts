/** Samples resident memory, since `maxRSS` would also count whatever ran earlier in the process. */
export function rssSampler(intervalMs = 25): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  }, intervalMs);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage.rss()) / (1024 * 1024);
    },
  };
}
