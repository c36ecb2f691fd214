/** The current time, updated every second while a component uses it (countdowns, running durations). */
export class Clock {
  now = $state(Date.now());

  constructor(intervalMs = 1000) {
    $effect(() => {
      const timer = setInterval(() => (this.now = Date.now()), intervalMs);
      return () => clearInterval(timer);
    });
  }
}

/** "in 4 s", "in 3 min 2 s", "now", "overdue (runs on the next tick)". */
export function untilText(target: number, now: number): string {
  const ms = target - now;
  if (ms <= 0) return 'due now';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h ${minutes % 60} min`;
  return `in ${Math.round(hours / 24)} days`;
}
