/**
 * Number formatting shared by the library, the CLI and the UI (alerts, gate reasons, model cards and
 * tables say the same figure the same way).
 */

/** Four significant digits without trailing zeros: 0.001 → "0.001", 12.3456 → "12.35", 1850 → "1850". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}
