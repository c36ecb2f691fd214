/**
 * A small Markdown reader for model cards that produces a tree of text nodes, never HTML: the UI
 * renders it with ordinary Svelte text and elements, so a card can never inject markup or script.
 * It covers what cards use — headings, paragraphs, lists, quotes, fenced code, rules, `code`,
 * **strong**, *emphasis* and [links](https://…) (only http(s), mailto and in-app `#/` links; others
 * stay visible text). Raw HTML in a card is shown as the text it is.
 */

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'strong'; children: Inline[] }
  | { kind: 'em'; children: Inline[] }
  | { kind: 'link'; href: string; children: Inline[] };

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4 | 5 | 6; children: Inline[] }
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }
  | { kind: 'quote'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'rule' };

/** The link targets a card may have; anything else (javascript:, data:, relative paths) is not a link. */
export function safeHref(url: string): string | undefined {
  const href = url.trim();
  if (/^(https?:\/\/|mailto:)[^\s]+$/i.test(href)) return href;
  if (/^#\/[^\s]*$/.test(href)) return href;
  return undefined;
}

/** Parses Markdown text into blocks. */
export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!)) body.push(lines[i++]!);
      i++; // the closing fence (or the end)
      blocks.push({ kind: 'code', text: body.join('\n') });
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      blocks.push({ kind: 'heading', level: heading[1]!.length as 1 | 2 | 3 | 4 | 5 | 6, children: parseInline(heading[2]!) });
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push({ kind: 'rule' });
      i++;
      continue;
    }
    const item = listItem(line);
    if (item) {
      const items: Inline[][] = [];
      while (i < lines.length) {
        const next = listItem(lines[i]!);
        if (next && next.ordered === item.ordered) {
          items.push(parseInline(next.text));
          i++;
        } else if (items.length && /^\s{2,}\S/.test(lines[i]!) && !listItem(lines[i]!)) {
          // A wrapped continuation line of the previous item.
          items[items.length - 1]!.push({ kind: 'text', text: ' ' }, ...parseInline(lines[i]!.trim()));
          i++;
        } else break;
      }
      blocks.push({ kind: 'list', ordered: item.ordered, items });
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i]!)) quoted.push(lines[i++]!.replace(/^\s*>\s?/, ''));
      blocks.push({ kind: 'quote', children: parseInline(quoted.join(' ')) });
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '' && !startsBlock(lines[i]!)) paragraph.push(lines[i++]!.trim());
    if (paragraph.length === 0) paragraph.push(lines[i++]!.trim());
    blocks.push({ kind: 'paragraph', children: parseInline(paragraph.join(' ')) });
  }
  return blocks;
}

function listItem(line: string): { ordered: boolean; text: string } | undefined {
  const bullet = /^\s{0,3}[-*+]\s+(.*)$/.exec(line);
  if (bullet) return { ordered: false, text: bullet[1]! };
  const numbered = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/.exec(line);
  if (numbered) return { ordered: true, text: numbered[1]! };
  return undefined;
}

function startsBlock(line: string): boolean {
  return /^\s*(```|~~~|#{1,6}\s|>)/.test(line) || listItem(line) !== undefined || /^\s*([-*_])(\s*\1){2,}\s*$/.test(line);
}

/** Parses inline Markdown (code, strong, emphasis, links, backslash escapes). */
export function parseInline(source: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ kind: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\\' && i + 1 < source.length && /[\\`*_[\]()#+\-.!>~]/.test(source[i + 1]!)) {
      text += source[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const end = source.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ kind: 'code', text: source.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && !(ch === '_' && /[A-Za-z0-9]/.test(source[i - 1] ?? ''))) {
      const marker = source.startsWith(ch + ch, i) ? ch + ch : ch;
      const end = source.indexOf(marker, i + marker.length);
      if (end > i + marker.length && source[i + marker.length] !== ' ') {
        flush();
        out.push({ kind: marker.length === 2 ? 'strong' : 'em', children: parseInline(source.slice(i + marker.length, end)) });
        i = end + marker.length;
        continue;
      }
    }
    if (ch === '[') {
      const close = source.indexOf('](', i + 1);
      const end = close > i ? source.indexOf(')', close + 2) : -1;
      if (close > i && end > close && !source.slice(i + 1, close).includes('[')) {
        const label = parseInline(source.slice(i + 1, close));
        const url = source.slice(close + 2, end);
        const href = safeHref(url);
        flush();
        if (href) out.push({ kind: 'link', href, children: label });
        else out.push(...label, { kind: 'text', text: ` (${url})` });
        i = end + 1;
        continue;
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

/** The plain text of inline nodes (for labels and tests). */
export function inlineText(nodes: Inline[]): string {
  return nodes.map((n) => ('children' in n ? inlineText(n.children) : n.text)).join('');
}
