// `npm run test:e2e:stress [-- --runs 3]`: the e2e project beside a CPU hog on every core, the way a busy CI
// machine runs it. A run counts as green only when every e2e test passes under that load.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    hogs: { type: 'string', default: String(availableParallelism()) },
  },
});
const runs = Number(values.runs);
const hogs = Number(values.hogs);

const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const hog = startHog(hogs);
const results: { run: number; passed: boolean; seconds: number }[] = [];
try {
  for (let run = 1; run <= runs; run++) {
    const started = performance.now();
    const e2e = spawnSync('npx', ['vitest', 'run', '--project', 'e2e'], { stdio: 'inherit' });
    results.push({ run, passed: e2e.status === 0, seconds: Math.round((performance.now() - started) / 1000) });
  }
} finally {
  hog.kill('SIGTERM');
}

console.log(`\ne2e under load (${hogs} CPU hog${hogs === 1 ? '' : 's'}, ${hog.label}):`);
for (const r of results) console.log(`  run ${r.run}: ${r.passed ? 'green' : 'RED'} in ${r.seconds} s`);
process.exit(results.every((r) => r.passed) ? 0 : 1);

/** Debian's stress-ng where installed, else Node busy loops: either keeps every core saturated. */
function startHog(count: number): { kill: (signal: NodeJS.Signals) => void; label: string } {
  if (existsSync('/usr/bin/stress-ng')) {
    const child = spawn('/usr/bin/stress-ng', ['--cpu', String(count), '--quiet'], { stdio: 'ignore' });
    return { kill: (signal) => child.kill(signal), label: 'stress-ng --cpu' };
  }
  const loops = `const { Worker } = require('node:worker_threads');
for (let i = 0; i < ${count}; i++) new Worker('for (;;) {}', { eval: true });`;
  const child = spawn(process.execPath, ['-e', loops], { stdio: 'ignore' });
  return { kill: (signal) => child.kill(signal), label: 'node busy loops' };
}
