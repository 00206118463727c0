/** A byte count for people: `512 B`, `3.4 KiB`, `120 MiB`, `6.9 GiB` (three significant digits at most). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (Math.abs(n) >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(n) : Number(n.toPrecision(3))} ${units[u]}`;
}
