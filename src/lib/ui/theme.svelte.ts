export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'loupe.theme';

/**
 * Light/dark theme. Kept in localStorage rather than IndexedDB so it applies before the database
 * opens (no flash of the wrong theme) and still works where IndexedDB is unavailable.
 */
class Theme {
  choice = $state<ThemeChoice>(readChoice());
  #systemDark = $state(matchMedia('(prefers-color-scheme: dark)').matches);
  resolved = $derived<'light' | 'dark'>(this.choice === 'system' ? (this.#systemDark ? 'dark' : 'light') : this.choice);

  constructor() {
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', (e) => (this.#systemDark = e.matches));
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    try {
      localStorage.setItem(STORAGE_KEY, choice);
    } catch {
      // Storage blocked (private mode in some browsers): the choice lasts for this visit only.
    }
  }

  toggle(): void {
    this.set(this.resolved === 'dark' ? 'light' : 'dark');
  }
}

function readChoice(): ThemeChoice {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

export const theme = new Theme();
