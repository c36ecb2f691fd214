/**
 * A byte count for people: binary multiples (1 KiB = 1024 B), labelled as such, to three significant
 * digits. The one formatter for sizes and limits (storage use, bundle caps, image and request limits).
 * @example formatBytes(1536) // "1.5 KiB"; formatBytes(10 * 2 ** 20) // "10 MiB"; formatBytes(NaN) // "—"
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))} ${units[unit]}`;
}
