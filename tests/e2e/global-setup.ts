import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from './chromium';

/** Fails fast, with the fix, when what every e2e test needs is missing. */
export default function setup(): void {
  if (!existsSync('dist/index.html')) {
    throw new Error('dist/ is missing: run `npm run test:e2e` (it builds first) or `npm run build`.');
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: run \`apt-get install -y chromium\` or set CHROMIUM_PATH.`);
  }
}
