import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { notifications, notify } from '../../../src/lib/ui/notifications.svelte';

describe('notifications', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    notifications.items = [];
  });
  afterEach(() => vi.useRealTimers());

  it('shows toasts in order; information goes after six seconds, errors stay until dismissed', () => {
    notify('ok', 'Saved the gate rule of coin-year.');
    const failed = notify('error', 'The sweep failed: no trial finished');
    expect(notifications.items.map((n) => [n.level, n.message])).toEqual([
      ['ok', 'Saved the gate rule of coin-year.'],
      ['error', 'The sweep failed: no trial finished'],
    ]);
    vi.advanceTimersByTime(6000);
    expect(notifications.items.map((n) => n.level)).toEqual(['error']);
    vi.advanceTimersByTime(60_000);
    expect(notifications.items).toHaveLength(1);
    notifications.dismiss(failed);
    expect(notifications.items).toEqual([]);
  });

  it('gives every toast its own id, so dismissing one leaves the others', () => {
    const a = notify('info', 'a');
    const b = notify('warn', 'b');
    expect(a).not.toBe(b);
    notifications.dismiss(a);
    expect(notifications.items.map((n) => n.message)).toEqual(['b']);
  });
});
