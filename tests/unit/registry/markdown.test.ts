import { describe, expect, it } from 'vitest';
import { inlineText, parseInline, parseMarkdown, safeHref } from '../../../src/lib/registry/markdown';

describe('model card markdown', () => {
  it('reads the blocks a card uses', () => {
    const blocks = parseMarkdown('# Title\n\nIntro line one\nline two.\n\n## Metrics\n\n- mae: 12\n- rmse: 15\n\n1. first\n2. second\n\n> quoted\n\n```\ncode <b>\n```\n\n---');
    expect(blocks.map((b) => b.kind)).toEqual(['heading', 'paragraph', 'heading', 'list', 'list', 'quote', 'code', 'rule']);
    expect(blocks[1]).toEqual({ kind: 'paragraph', children: [{ kind: 'text', text: 'Intro line one line two.' }] });
    expect(blocks[3]).toMatchObject({ kind: 'list', ordered: false, items: [[{ text: 'mae: 12' }], [{ text: 'rmse: 15' }]] });
    expect(blocks[4]).toMatchObject({ kind: 'list', ordered: true });
    expect(blocks[6]).toEqual({ kind: 'code', text: 'code <b>' });
  });

  it('reads inline code, strong, emphasis and links', () => {
    expect(parseInline('a `x_y` **bold** *it* [docs](https://mlflow.org/docs)')).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'code', text: 'x_y' },
      { kind: 'text', text: ' ' },
      { kind: 'strong', children: [{ kind: 'text', text: 'bold' }] },
      { kind: 'text', text: ' ' },
      { kind: 'em', children: [{ kind: 'text', text: 'it' }] },
      { kind: 'text', text: ' ' },
      { kind: 'link', href: 'https://mlflow.org/docs', children: [{ kind: 'text', text: 'docs' }] },
    ]);
    expect(inlineText(parseInline('snake_case_name stays'))).toBe('snake_case_name stays');
  });

  it('keeps HTML as text and never makes a dangerous link', () => {
    const hostile = '<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) [d](data:text/html,hi) [v](vbscript:x)';
    const nodes = parseInline(hostile);
    expect(nodes.some((n) => n.kind === 'link')).toBe(false);
    expect(inlineText(nodes)).toContain('<script>alert(1)</script>');
    expect(inlineText(nodes)).toContain('click (javascript:alert(1))');
    expect(JSON.stringify(parseMarkdown(`# <h1 onclick=x>\n\n${hostile}`))).not.toMatch(/"kind":"(html|raw)"/);
  });

  it('allows only http(s), mailto and in-app links', () => {
    expect(safeHref('https://example.org/a')).toBe('https://example.org/a');
    expect(safeHref('mailto:team@example.org')).toBe('mailto:team@example.org');
    expect(safeHref('#/registry/coin-year/2')).toBe('#/registry/coin-year/2');
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,x', '//evil.example', '/etc/passwd', 'https://a b']) expect(safeHref(bad)).toBeUndefined();
  });
});
