import { parseHash, type RoutePath } from './routes';

/** The current hash route, reactive. */
class Router {
  #hash = $state(location.hash);
  current = $derived(parseHash(this.#hash));

  constructor() {
    addEventListener('hashchange', () => (this.#hash = location.hash));
  }

  go(route: RoutePath, ...rest: string[]): void {
    location.hash = `#/${[route, ...rest].map(encodeURIComponent).join('/')}`;
  }
}

export const router = new Router();
