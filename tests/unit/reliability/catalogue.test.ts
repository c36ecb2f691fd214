import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/reliability.md promises that every case of its catalogue is a passing test. This keeps the promise
// checkable: every row names a test file and a test in it, and both exist (CI then runs them).

const root = join(import.meta.dirname, '../../..');
const doc = readFileSync(join(root, 'docs/reliability.md'), 'utf8');

interface Row {
  line: number;
  cells: string[];
}

/** Rows of the catalogue tables: those whose last cell names a test (`path` › name). */
function catalogueRows(): Row[] {
  return doc
    .split('\n')
    .map((text, i) => ({ line: i + 1, cells: text.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, '').trim()) }))
    .filter(({ cells }) => cells.length >= 3 && /^`tests\/[^`]+`\s+›/.test(cells.at(-1)!));
}

/** Test names written as template literals (`answers ${BURST} requests…`), as patterns over their values. */
function templateNames(source: string): RegExp[] {
  return [...source.matchAll(/\b(?:it|test)\(`([^`]+)`/g)].map(([, template]) => {
    const parts = template!.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${parts.join('.+')}$`);
  });
}

/**
 * The tests a cell cites: "`path` › name", several joined by "; ", where "› name" alone names another
 * test of the file before it.
 */
function citedTests(cell: string): { file: string; name: string }[] {
  let file = '';
  return cell.split(/;\s+(?=`tests\/|›)/).map((citation) => {
    const match = /^(?:`(tests\/[^`]+)`\s+)?›\s+(.+)$/.exec(citation);
    if (!match || !(match[1] ?? file)) throw new Error(`not a test reference: ${citation}`);
    file = match[1] ?? file;
    return { file, name: match[2]!.trim() };
  });
}

describe('docs/reliability.md', () => {
  const rows = catalogueRows();

  it('catalogues at least 30 cases', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  it('cites, for every case, a test that exists under that name', () => {
    const missing = rows.flatMap(({ line, cells }) =>
      citedTests(cells.at(-1)!).flatMap(({ file, name }) => {
        if (!existsSync(join(root, file))) return [`line ${line}: no file ${file}`];
        const source = readFileSync(join(root, file), 'utf8');
        return source.includes(name) || templateNames(source).some((pattern) => pattern.test(name)) ? [] : [`line ${line}: ${file} has no test named "${name}"`];
      }),
    );
    expect(missing).toEqual([]);
  });
});
