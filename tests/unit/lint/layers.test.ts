/**
 * The layer rule of `npm run lint` (eslint.layers.js): ESLint's own API lints small virtual files and
 * checks that wrong arrows are reported — aliases, relative paths, `import()` and `import('…')` types —
 * and that right ones are not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { TEMPORARY_EXCEPTIONS } from '../../../eslint.layers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfigFile: join(root, 'eslint.config.js') });
const LAYER_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);

/** The layer errors ESLint reports for `code` as if it were the file `path`. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result!.messages.filter((m) => m.ruleId && LAYER_RULES.has(m.ruleId)).map((m) => m.message);
}

describe('the layer rule', () => {
  it('keeps src/lib/db from importing the rest of src/lib, however the import is written', async () => {
    const cases = [
      "import { ModelRegistry } from '$lib/registry/registry';\nexport { ModelRegistry };",
      "export type { GateRule } from '../registry/types';",
      "export type Config = import('$lib/pipelines/types').PipelineConfig;",
      "export const load = () => import('$lib/settings');",
    ];
    for (const code of cases) {
      const errors = await layerErrors('src/lib/db/x.ts', code);
      expect(errors, code).toHaveLength(1);
      expect(errors[0]).toMatch(/^(.* )?db \(layer 13\) may not import/);
    }
  });

  it('keeps models/ from importing src/', async () => {
    expect(await layerErrors('models/x.ts', "export type { TaskName } from '$lib/db/specs';")).toHaveLength(1);
    expect(await layerErrors('models/backbones/x.ts', "export { rng } from '../../src/lib/random';")).toHaveLength(1);
  });

  it('keeps src/lib from the UI: components, pages, UI stores and state classes', async () => {
    for (const target of ['$lib/ui/notifications.svelte', '$lib/training/session.svelte', '../../components/PageHeader.svelte']) {
      expect(await layerErrors('src/lib/registry/x.ts', `import '${target}';`), target).toHaveLength(1);
    }
  });

  it('reports upward arrows between lib layers, relative ones from nested folders too', async () => {
    expect(await layerErrors('src/lib/tasks/x.ts', "import '$lib/training/loop';")).toHaveLength(1);
    expect(await layerErrors('src/lib/registry/x.ts', "import '$lib/serving/sdk';")).toHaveLength(1);
    expect(await layerErrors('src/lib/datasets/demo/x.ts', "import '../../serving/types';")).toHaveLength(1);
    expect(await layerErrors('src/lib/x.ts', "import '$lib/registry/registry';")).toHaveLength(1);
  });

  it('lets every layer import its own layer and the ones below', async () => {
    expect(await layerErrors('src/lib/registry/x.ts', "import '$lib/db/types';\nimport '$lib/tasks/names';\nimport './gate';\nimport '$lib/random';")).toEqual([]);
    expect(await layerErrors('src/lib/pipelines/x.ts', "import '$lib/sweeps/controller';\nimport '../monitoring/alerts';")).toEqual([]);
    expect(await layerErrors('src/lib/db/x.ts', "import type { SmallCnnConfig } from '$models/small-cnn';\nimport './specs';")).toEqual([]);
    expect(await layerErrors('src/lib/training/x.svelte.ts', "import '$lib/workers';\nimport '$lib/ui/notifications.svelte';")).toEqual([]);
    expect(await layerErrors('src/components/X.svelte', "<script lang=\"ts\">import '$lib/workers';</script>")).toEqual([]);
  });

  it.runIf(TEMPORARY_EXCEPTIONS.length > 0)('allows a temporary exception for its file and import only', async () => {
    const { file, import: allowed } = TEMPORARY_EXCEPTIONS[0]!;
    expect(await layerErrors(file, `import '${allowed}';`)).toEqual([]);
    expect(await layerErrors(file, "import '$lib/ui/router.svelte';")).toHaveLength(1);
  });

  it('lists no exception whose import is gone (delete it instead)', () => {
    const stale = TEMPORARY_EXCEPTIONS.filter(({ file, import: specifier }) => !readFileSync(join(root, file), 'utf8').includes(`'${specifier}'`));
    expect(stale).toEqual([]);
  });

  it('covers every source file below the UI', async () => {
    const walk = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    const ui = /^src\/(App\.svelte|main\.ts|pages\/|components\/|studio\/|lib\/ui\/)|\.svelte\.ts$|\.d\.ts$/;
    const files = ['src', 'workers', 'models'].flatMap(walk).filter((f) => /\.(ts|js|svelte)$/.test(f) && !ui.test(f));
    expect(files.length).toBeGreaterThan(200);
    const uncovered: string[] = [];
    for (const file of files) {
      const config = await eslint.calculateConfigForFile(join(root, file));
      if (!config?.rules?.['no-restricted-imports']) uncovered.push(relative(root, join(root, file)));
    }
    expect(uncovered).toEqual([]);
  });
});
