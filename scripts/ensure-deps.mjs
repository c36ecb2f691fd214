// Makes `npm start` and `npm test` work on a fresh clone. Plain JS: it runs before anything is installed.
//   node scripts/ensure-deps.mjs         the locked npm packages (npm start)
//   node scripts/ensure-deps.mjs --test  those, plus the system packages the test suite drives or reads
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.log('Installing dependencies…');
  // The lock lists every platform's optional packages, so `npm ci` installs exactly it and never edits it.
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}

if (process.argv.includes('--test')) ensureSystemPackages();

/** Debian packages the tests need: the e2e browser, torchvision for the parity references, Fashion-MNIST for
 *  the quality tests, the Pushgateway and Prometheus that metrics pushes are tested against. Installed through apt-get when running as root; otherwise the one command to run. */
function ensureSystemPackages() {
  const missing = [];
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (!succeeds("/usr/bin/python3 -c 'import torch, torchvision'")) missing.push('python3-torch', 'python3-torchvision');
  if (!existsSync('/usr/share/datasets/fashion-mnist')) missing.push('dataset-fashion-mnist');
  if (!existsSync('/usr/bin/prometheus-pushgateway')) missing.push('prometheus-pushgateway');
  if (!existsSync('/usr/bin/prometheus')) missing.push('prometheus');
  if (missing.length === 0) return;

  const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`The tests need Debian packages that are missing. Install them with:\n  sudo apt-get update && sudo ${install}`);
    process.exit(1);
  }
  console.log(`Installing ${missing.join(', ')}…`);
  execSync('apt-get update -qq', { stdio: 'inherit' });
  execSync(`${install} -qq`, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function succeeds(command) {
  try {
    execSync(command, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
