// Loupe's layers (DESIGN.md "Layers"), checked by `npm run lint`.
// A module may import its own layer and every layer BELOW it, never one above. Top to bottom:
export const LAYERS = [
  ['ui', 'src/App.svelte', 'src/main.ts', 'src/pages', 'src/components', 'src/studio', 'src/lib/ui', 'src/lib/**/*.svelte.ts'], // views, UI stores, state classes, the studio tab's services
  ['entry points', 'workers', 'src/sw.ts', 'src/cli'], // thin adapters: worker files, service worker, CLI
  ['worker services', 'src/lib/workers'], // worker services, the crash-safe client, worker API types
  ['workflows', 'src/lib/workflows'], // what joins training + registry + serving
  ['pipelines', 'src/lib/pipelines', 'src/lib/sweeps'],
  ['monitoring', 'src/lib/monitoring'],
  ['serving', 'src/lib/serving'],
  ['registry', 'src/lib/registry'],
  ['training', 'src/lib/training'],
  ['datasets', 'src/lib/datasets'], // parsers and import read each task's columns and formats
  ['tasks', 'src/lib/tasks'], // one folder per task + one registry line each
  ['leaf', 'src/lib/text', 'src/lib/images', 'src/lib/backends', 'src/lib/*'], // src/lib/* = what else sits there (random, hash, locks, progress, format, …)
  ['db', 'src/lib/db'], // row types, persisted shapes, schema
  ['models', 'models'], // model code: imports nothing from src/
];
// Hence: models/ ↛ src/; src/lib/db ↛ the rest of src/lib; no src/lib module imports components/, pages/,
// UI stores or state classes; tasks ↛ datasets, training, registry, serving, workers; registry ↛ serving.
// Imports are matched as written — `$lib/…`, `$models/…`, `$workers/…` or relative — in imports and
// re-exports (no-restricted-imports) and in `import()` expressions and types (no-restricted-syntax).

/**
 * Wrong arrows still in the code, allowed until their owner removes them (issue 23): one file and one import
 * exactly as written there each. Delete an entry when its import goes; never add one to silence a new arrow.
 * @type {{ file: string, import: string }[]}
 */
export const TEMPORARY_EXCEPTIONS = [];

// --- The table above as ESLint config: one block per layer folder and nesting depth, because what a
// relative import points at depends on how deep the importing file sits. ---

const MAX_DEPTH = 6;
const SOURCES = '{ts,js,svelte}';
const REST_OF_LIB = 'src/lib/*';
const ALIASES = { 'src/lib': '$lib', 'src/studio': '$studio', models: '$models', workers: '$workers' };

const isGlob = (entry) => entry.includes('**');
const isFile = (entry) => !isGlob(entry) && /\.[a-z]+$/.test(entry);
/** Globs claim their files from the folders around them (a state class in src/lib/training is UI). */
const CLAIMED = LAYERS.flatMap(([, ...entries]) => entries.filter(isGlob));
/** src/lib's folders the table names; `src/lib/*` is everything else there. */
const NAMED = LAYERS.flatMap(([, ...entries]) => entries)
  .filter((e) => /^src\/lib\/[^/*]+$/.test(e))
  .map((e) => e.slice('src/lib/'.length));

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `to` written relative to the folder `from` (repository paths), as an import would write it. */
function relative(from, to) {
  const a = from.split('/');
  const b = to.split('/');
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const up = Array(a.length - common).fill('..');
  return [...(up.length ? up : ['.']), ...b.slice(common)].join('/');
}

/** Regex sources matching how a file in folder `from` would import the layer entry `entry`. */
function specifiers(entry, from) {
  if (isGlob(entry)) return [`.*\\.svelte(?:\\.[jt]s)?$`];
  if (entry === REST_OF_LIB) {
    const other = `(?!(?:${NAMED.map(escape).join('|')})(?:/|$))[^/]+`;
    return [`\\$lib/${other}`, `${escape(relative(from, 'src/lib'))}/${other}`];
  }
  const path = entry.replace(/\.ts$/, '');
  const end = isFile(entry) ? '(?:\\.ts)?$' : '(?:/|$)';
  const alias = Object.keys(ALIASES).find((root) => path === root || path.startsWith(`${root}/`));
  return [...(alias ? [ALIASES[alias] + path.slice(alias.length)] : []), relative(from, path)].map((p) => escape(p) + end);
}

/** The rules for files in folder `from` of layer `index`, allowing the imports `allowed` exactly. */
function rules(index, from, allowed = []) {
  const unless = allowed.length ? `(?!(?:${allowed.map(escape).join('|')})$)` : '';
  const forbidden = LAYERS.slice(0, index).map(([name, ...entries], above) => ({
    regex: `^${unless}(?:${entries.flatMap((entry) => specifiers(entry, from)).join('|')})`,
    caseSensitive: true,
    message: `${LAYERS[index][0]} (layer ${index + 1}) may not import ${name} (layer ${above + 1}: ${entries.join(', ')}); layers import only downward, see eslint.layers.js.`,
  }));
  // esquery's regex literals end at the first '/', so slashes are written \x2F there.
  const selector = (node, key, regex) => `${node}[${key}=/${regex.replaceAll('/', '\\x2F')}/]`;
  return {
    'no-restricted-imports': ['error', { patterns: forbidden }],
    'no-restricted-syntax': [
      'error',
      ...forbidden.flatMap(({ regex, message }) => [
        { selector: selector('ImportExpression', 'source.value', regex), message },
        { selector: selector('TSImportType', 'source.value', regex), message },
      ]),
    ],
  };
}

/** Which layer and entry a repository path belongs to, and the folder relative imports start from. */
function locate(file) {
  const dir = file.split('/').slice(0, -1).join('/');
  for (const [index, [, ...entries]] of LAYERS.entries()) {
    for (const entry of entries) {
      const rest = entry === REST_OF_LIB && file.startsWith('src/lib/') && !NAMED.includes(file.split('/')[2]);
      if (isFile(entry) ? file === entry : rest || (!isGlob(entry) && file.startsWith(`${entry}/`))) {
        return { index, from: dir };
      }
    }
  }
  throw new Error(`eslint.layers.js: ${file} is in no layer`);
}

/** Flat-config blocks enforcing `LAYERS` and `TEMPORARY_EXCEPTIONS`; spread them into eslint.config.js. */
export function layerRules() {
  const blocks = [];
  LAYERS.forEach(([, ...entries], index) => {
    if (index === 0) return; // the top layer may import anything
    for (const entry of entries.filter((e) => !isGlob(e))) {
      if (isFile(entry)) blocks.push({ files: [entry], rules: rules(index, entry.split('/').slice(0, -1).join('/')) });
      else
        for (let depth = 0; depth <= MAX_DEPTH; depth++) {
          const folder = entry === REST_OF_LIB ? 'src/lib' : entry;
          const files = [`${folder}/${'*/'.repeat(depth)}*.${SOURCES}`];
          const ignores = entry === REST_OF_LIB ? [...CLAIMED, ...NAMED.map((name) => `src/lib/${name}/**`)] : CLAIMED;
          blocks.push({ files, ignores, rules: rules(index, [folder, ...Array(depth).fill('x')].join('/')) });
        }
    }
  });
  const allowed = new Map();
  for (const e of TEMPORARY_EXCEPTIONS) allowed.set(e.file, [...(allowed.get(e.file) ?? []), e.import]);
  for (const [file, imports] of allowed) {
    const { index, from } = locate(file);
    blocks.push({ files: [file], rules: rules(index, from, imports) });
  }
  return blocks;
}
