import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * User text (dataset names and labels, run and model names, model cards, logged inputs) must reach the
 * DOM as text. Svelte escapes `{expression}` text and attributes; these are the ways around that. The
 * model card renderer (src/components/registry/Markdown.svelte) builds elements from a parsed tree and
 * needs none of them, so no file may use them (a new exception must be added here, with its reason).
 */
const ROOTS = ['src', 'workers', 'models'];
/** Sinks in markup or code; `code: true` ones are looked for in scripts only (template text may say "eval ("). */
const SINKS: [string, RegExp, { code?: boolean }?][] = [
  ['{@html}', /\{@html\b/],
  ['innerHTML', /\.innerHTML\b/],
  ['outerHTML', /\.outerHTML\b/],
  ['insertAdjacentHTML', /\binsertAdjacentHTML\b/],
  ['document.write', /\bdocument\.write(ln)?\s*\(/],
  ['createContextualFragment', /\bcreateContextualFragment\b/],
  ['DOMParser', /\bnew\s+DOMParser\b/],
  ['srcdoc', /\bsrcdoc\s*=/],
  ['eval', /(^|[^.\w])eval\s*\(/, { code: true }],
  ['new Function', /\bnew\s+Function\s*\(/, { code: true }],
  ['string timer', /\bset(Timeout|Interval)\s*\(\s*['"`]/, { code: true }],
];
const ALLOWED = new Map<string, string>(); // "file: sink" → why it is safe

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|svelte)$/.test(name) ? [path] : [];
  });
}

/** The code without comments, so that documentation may name a sink it warns against. */
function code(text: string): string {
  return text
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

describe('user text is never rendered as HTML', () => {
  const files = ROOTS.flatMap((root) => sources(root));

  it('finds the sources it checks', () => {
    expect(files.filter((f) => f.endsWith('.svelte')).length).toBeGreaterThan(30);
    expect(files).toContain(join('src', 'components', 'registry', 'Markdown.svelte'));
  });

  it('no component or module writes markup from strings, or runs strings as code', () => {
    const found: string[] = [];
    for (const file of files) {
      const text = code(readFileSync(file, 'utf8'));
      const scripts = file.endsWith('.svelte') ? (text.match(/<script[\s\S]*?<\/script>/g) ?? []).join('\n') : text;
      for (const [sink, pattern, options] of SINKS) {
        const key = `${relative('.', file)}: ${sink}`;
        if (pattern.test(options?.code ? scripts : text) && !ALLOWED.has(key)) found.push(key);
      }
    }
    expect(found).toEqual([]);
  });

  it('catches a sink when there is one (the check itself works)', () => {
    const sample = code('<p>{@html card}</p>\n// el.innerHTML = x is documented only\nel.innerHTML = text;\nconst f = new Function("x");');
    expect(SINKS.filter(([, pattern]) => pattern.test(sample)).map(([sink]) => sink)).toEqual(['{@html}', 'innerHTML', 'new Function']);
  });
});
