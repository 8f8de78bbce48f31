/** The middle value (the upper one of an even count): what the A/B benches report over rounds. */
export function median(list: readonly number[]): number {
  if (list.length === 0) throw new Error("the median of nothing");
  return [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
}

/** The lower and upper quartiles (by rank, as `median`): the spread printed beside a median. */
export function quartiles(list: readonly number[]): [number, number] {
  if (list.length === 0) throw new Error("the quartiles of nothing");
  const sorted = [...list].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
  return [at(0.25), at(0.75)];
}
