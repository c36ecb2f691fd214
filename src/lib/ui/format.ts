import { formatNumber } from '$lib/format';

/** Shown in lib, the CLI and the UI alike, so it lives below them; re-exported for the views. */
export { formatNumber };

// One formatter for every date the studio shows, in the user's locale (built once: constructing an
// Intl.DateTimeFormat is far slower than formatting with it, and the log formats hundreds of rows).
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Local date and time to the second, in the user's locale: "Dec 6, 2026, 2:23:43 PM" in en-US. */
export function formatTime(ts: number): string {
  return Number.isFinite(ts) ? dateTime.format(ts) : '—';
}

/** The same instant in ISO 8601 (UTC), for `<time datetime>` and hover titles. */
export function isoTime(ts: number): string {
  return Number.isFinite(ts) ? new Date(ts).toISOString() : '';
}

/** 83_000 → "1 min 23 s"; 950 → "950 ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
