import { checkClass, type LabelCheck } from './labels';

/**
 * The class list of a classification upload, and the check each of its labels goes through.
 * - **preset**: most labels are the task's preset names or indices (car damage, 3-class sentiment):
 *   the preset is the class list and anything else is skipped as a typo, naming the expected labels.
 * - **binary**: a sentiment upload labelled only 0/1 (UCI Sentiment Labelled Sentences: 0 negative,
 *   1 positive) — never read as tweet_eval's 0 negative / 1 neutral.
 * - **custom**: otherwise every distinct label is a class (Fashion-MNIST's, a folder per class…), in
 *   natural order, so "2" sorts before "10".
 */
export interface ClassSet {
  mode: 'preset' | 'binary' | 'custom';
  labels: string[];
  check(raw: unknown): LabelCheck;
}

export const BINARY_SENTIMENT = ['negative', 'positive'] as const;

const collator = new Intl.Collator('en', { numeric: true });

/**
 * Decides an upload's classes from all its raw labels (see `ClassSet`).
 * @example classSetOf(['0', '1', 1], SENTIMENT_LABELS, { binaryNames: BINARY_SENTIMENT }).labels // ['negative', 'positive']
 */
export function classSetOf(raws: readonly unknown[], preset: readonly string[], options: { binaryNames?: readonly string[] } = {}): ClassSet {
  const texts = raws.map((r) => String(r ?? '').trim()).filter((t) => t !== '');
  const { binaryNames } = options;
  if (binaryNames && texts.length > 0 && texts.every((t) => t === '0' || t === '1')) {
    return { mode: 'binary', labels: [...binaryNames], check: (raw) => checkClass(raw, binaryNames) };
  }
  const known = texts.filter((t) => checkClass(t, preset).ok).length;
  if (texts.length === 0 || known * 2 >= texts.length) return { mode: 'preset', labels: [...preset], check: (raw) => checkClass(raw, preset) };
  const labels = [...new Set(texts)].sort(collator.compare);
  const set = new Set(labels);
  return {
    mode: 'custom',
    labels,
    check(raw) {
      const text = String(raw ?? '').trim();
      if (text === '') return { ok: false, reason: `label is empty; expected one of ${labels.join(', ')}` };
      return set.has(text) ? { ok: true, label: text } : { ok: false, reason: `unknown label "${text}"; expected one of ${labels.join(', ')}` };
    },
  };
}

/** A fixed class list (a Loupe export's, an IDX upload's `classes.txt`): names, or indices into it. */
export function declaredClassSet(labels: readonly string[]): ClassSet {
  const set = new Set(labels);
  return {
    mode: 'custom',
    labels: [...labels],
    check(raw) {
      const text = String(raw ?? '').trim();
      if (set.has(text)) return { ok: true, label: text };
      return checkClass(raw, labels);
    },
  };
}
