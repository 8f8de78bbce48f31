/** The middle value (the upper one of an even count): what the A/B benches report over rounds. */
export function median(list: readonly number[]): number {
  if (list.length === 0) throw new Error("the median of nothing");
  return [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
}
