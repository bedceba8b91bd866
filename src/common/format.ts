/** Text formats shared by the CLI and the daemon. */

/** A duration in µs, short: "0.4s", "12s", "3m05s", "2h04m". */
export function shortDurationUs(us: number): string {
  const s = Math.max(0, us) / 1e6;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(Math.floor(s % 60))}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
}
