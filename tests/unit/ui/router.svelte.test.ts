import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { router as Router } from '../../../src/lib/ui/router.svelte';

// The router reads the page's location and listens for hash changes: a stand-in for both.
const location = { hash: '#/runs/abc%20d' };
const listeners: (() => void)[] = [];
let router: typeof Router;

beforeAll(async () => {
  vi.stubGlobal('location', location);
  vi.stubGlobal('addEventListener', (type: string, listener: () => void) => type === 'hashchange' && listeners.push(listener));
  ({ router } = await import('../../../src/lib/ui/router.svelte'));
});

function navigate(hash: string) {
  location.hash = hash;
  for (const listener of listeners) listener();
}

describe('router', () => {
  it('starts on the page the address names', () => {
    expect(router.current).toEqual({ route: 'runs', rest: ['abc d'], known: true });
  });

  it('follows the address as it changes, falling back to the default page for unknown ones', () => {
    navigate('#/registry/coin-year/3');
    expect(router.current).toEqual({ route: 'registry', rest: ['coin-year', '3'], known: true });
    navigate('#/nope');
    expect(router.current).toMatchObject({ known: false, rest: [] });
  });

  it('goes to a page with its path segments encoded', () => {
    router.go('registry', 'my model', 'compare', '1', '2');
    expect(location.hash).toBe('#/registry/my%20model/compare/1/2');
  });
});
