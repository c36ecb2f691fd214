/** The studio's areas, in navigation order. Each is a hash route (`#/train`), so static hosting needs no rewrites. */
export const ROUTES = [
  { path: 'datasets', title: 'Datasets', icon: '▦', blurb: 'Import, validate and version data' },
  { path: 'train', title: 'Train', icon: '◭', blurb: 'Train and fine-tune in a worker' },
  { path: 'runs', title: 'Runs', icon: '≋', blurb: 'Tracked runs and their curves' },
  { path: 'sweeps', title: 'Sweeps', icon: '⋔', blurb: 'Hyper-parameter search' },
  { path: 'registry', title: 'Registry', icon: '⬡', blurb: 'Versions, aliases, promotion' },
  { path: 'predict', title: 'Predict', icon: '➤', blurb: 'Predictions from production models' },
  { path: 'monitor', title: 'Monitor', icon: '◔', blurb: 'Traffic, latency, drift, alerts' },
  { path: 'pipelines', title: 'Pipelines', icon: '⟳', blurb: 'Scheduled retraining' },
  { path: 'settings', title: 'Settings', icon: '⚙', blurb: 'Backends, storage, data' },
] as const;

export type RoutePath = (typeof ROUTES)[number]['path'];

export const DEFAULT_ROUTE: RoutePath = 'datasets';

/** Parses `#/runs/abc?x=1` into the route and the rest of the path; unknown routes fall back to the default. */
export function parseHash(hash: string): { route: RoutePath; rest: string[]; known: boolean } {
  const [path = ''] = hash.replace(/^#\/?/, '').split('?');
  const [head = '', ...rest] = path.split('/').filter(Boolean).map(decodeURIComponent);
  const match = ROUTES.find((r) => r.path === head);
  return { route: match?.path ?? DEFAULT_ROUTE, rest, known: Boolean(match) || head === '' };
}
