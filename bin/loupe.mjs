#!/usr/bin/env node
// The `loupe` command. Loupe's core is TypeScript run as source (no build step for Node), so this entry
// registers tsx's loader — a devDependency the repo already runs its scripts with — against the repo's
// own tsconfig (for the `$lib`/`$models` paths, wherever the command is started from), then runs
// src/cli/main.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = fileURLToPath(new URL('..', import.meta.url));
register({ tsconfig: `${root}tsconfig.json` });
// Registered after tsx, so it sees `?url` imports first.
registerHooks('./asset-url-hooks.mjs', import.meta.url);

// What Vite's `define` gives the studio's build (src/lib/version.ts): recorded with runs and bundles.
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
globalThis.__APP_VERSION__ = pkg.version;
try {
  globalThis.__GIT_COMMIT__ = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  globalThis.__GIT_COMMIT__ = '';
}

const { main, nodeIo } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), nodeIo());
