import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { theme as Theme } from '../../../src/lib/ui/theme.svelte';

// The system preference and storage, as the browser gives them.
const stored = new Map<string, string>([['loupe.theme', 'system']]);
const system = { matches: false, listeners: [] as ((e: { matches: boolean }) => void)[] };
let theme: typeof Theme;

beforeAll(async () => {
  vi.stubGlobal('localStorage', { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v) });
  vi.stubGlobal('matchMedia', () => ({ matches: system.matches, addEventListener: (_: string, l: (e: { matches: boolean }) => void) => system.listeners.push(l) }));
  ({ theme } = await import('../../../src/lib/ui/theme.svelte'));
});

function systemTurns(dark: boolean) {
  system.matches = dark;
  for (const listener of system.listeners) listener({ matches: dark });
}

describe('theme', () => {
  it('follows the system until the user picks one, and remembers the pick', () => {
    expect(theme).toMatchObject({ choice: 'system', resolved: 'light' });
    systemTurns(true);
    expect(theme.resolved).toBe('dark');
    theme.set('light');
    expect(theme.resolved).toBe('light');
    expect(stored.get('loupe.theme')).toBe('light');
    systemTurns(false);
    systemTurns(true);
    expect(theme.resolved).toBe('light');
  });

  it('toggles between light and dark from what is shown', () => {
    theme.set('system');
    systemTurns(true);
    theme.toggle();
    expect(theme).toMatchObject({ choice: 'light', resolved: 'light' });
    theme.toggle();
    expect(theme).toMatchObject({ choice: 'dark', resolved: 'dark' });
  });
});
