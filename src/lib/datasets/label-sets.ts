import { checkClass, type LabelCheck } from './labels';

/**
 * The class list of a classification upload, and the check each of its labels goes through. The
 * classes are the labels the data has; a preset only names and orders them.
 * - **preset**: most labels are the preset's names or indices (car damage, sentiment): the
 *   classes are the preset names that occur, in preset order (`negative`/`positive` → 2 classes), and
 *   anything else is skipped as a typo, naming the expected labels. Numbers are indices into the preset
 *   (tweet_eval's 0 negative, 1 neutral, 2 positive) unless they number more classes of their own, 0…k-1;
 *   `note` says how they were read.
 * - **binary**: an upload labelled only 0/1 where the preset names two classes for that (sentiment, as
 *   UCI Sentiment Labelled Sentences has it: 0 negative, 1 positive) — never read as tweet_eval's 0
 *   negative / 1 neutral.
 * - **custom**: otherwise every distinct label is a class (Fashion-MNIST's, a folder per class, topic
 *   numbers 0…5), in natural order, so "2" sorts before "10".
 */
export interface ClassSet {
  mode: 'preset' | 'binary' | 'custom';
  labels: string[];
  check(raw: unknown): LabelCheck;
  /** How numeric labels were read, for the import's validation report: `Labels 0, 1, 2 read as …`. */
  note?: string;
}

const collator = new Intl.Collator('en', { numeric: true });

const INDEX = /^\d+$/;

export interface ClassSetOptions {
  /** The class names of an upload labelled only 0/1 (the sentiment preset's: negative, positive). */
  binaryNames?: readonly string[];
  /** Who numbers the preset's classes 0, 1, 2 (`tweet_eval`), for the note on numeric labels. */
  presetName?: string;
}

/** `Labels 0, 1, 2 read as negative, neutral, positive (tweet_eval).`, for the numbers among `texts`. */
function numberNote(texts: readonly string[], names: readonly string[], source: string | undefined): string | undefined {
  const numbers = [...new Set(texts.filter((t) => INDEX.test(t)))].sort(collator.compare);
  if (numbers.length === 0) return undefined;
  const read = numbers.map((n) => names[Number(n)]!);
  return `Label${numbers.length > 1 ? 's' : ''} ${numbers.join(', ')} read as ${read.join(', ')}${source ? ` (${source})` : ''}.`;
}

/**
 * Decides an upload's classes from all its raw labels (see `ClassSet`).
 * @example classSetOf(['0', '1', 1], SENTIMENT_LABELS, { binaryNames: ['negative', 'positive'] }).labels // ['negative', 'positive']
 * @example classSetOf(['negative', 'positive'], SENTIMENT_LABELS).labels // ['negative', 'positive']
 */
export function classSetOf(raws: readonly unknown[], preset: readonly string[], options: ClassSetOptions = {}): ClassSet {
  const texts = raws.map((r) => String(r ?? '').trim()).filter((t) => t !== '');
  const { binaryNames, presetName } = options;
  if (binaryNames && texts.length > 0 && texts.every((t) => t === '0' || t === '1')) {
    return { mode: 'binary', labels: [...binaryNames], check: (raw) => checkClass(raw, binaryNames), note: numberNote(texts, binaryNames, undefined) };
  }
  // Numbers are preset indices unless they number classes of their own: 0…k-1 without gaps, with more
  // classes than the preset (topics 0…5, tweet_eval emotion's 0…3). A stray 3 or 99 among 0/1/2 labels
  // is a typo to report, not a class.
  const numbers = [...new Set(texts.filter((t) => INDEX.test(t)).map(Number))];
  const ownNumbering = numbers.length > preset.length && numbers.every((n) => n < numbers.length);
  const numbersFit = !ownNumbering;
  const presetClass = (text: string) => {
    const checked = numbersFit || !INDEX.test(text) ? checkClass(text, preset) : undefined;
    return checked?.ok ? String(checked.label) : undefined;
  };
  if (texts.length === 0) return { mode: 'preset', labels: [...preset], check: (raw) => checkClass(raw, preset) };
  const known = texts.filter((t) => presetClass(t) !== undefined);
  if (preset.length > 0 && known.length > 0 && known.length * 2 >= texts.length) {
    const present = new Set(known.map(presetClass));
    const labels = preset.filter((l) => present.has(l));
    return {
      mode: 'preset',
      labels,
      note: numberNote(known, preset, presetName),
      check(raw) {
        const text = String(raw ?? '').trim();
        const label = presetClass(text);
        if (label !== undefined && labels.includes(label)) return { ok: true, label };
        // Any preset name would have been a class, so the reason names them all.
        const expected = `expected one of ${preset.join(', ')}${numbersFit ? ` or 0…${preset.length - 1}` : ''}`;
        return { ok: false, reason: text === '' ? `label is empty; ${expected}` : `unknown label "${text}"; ${expected}` };
      },
    };
  }
  return customClassSet([...new Set(texts)].sort(collator.compare));
}

function customClassSet(labels: string[]): ClassSet {
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

/**
 * The classes of a version that adds samples to `parent`: the parent's, then any the addition brings.
 * When both are preset names the preset orders them, so adding `neutral` texts to a
 * negative/positive version gives negative, neutral, positive.
 * @example mergeClasses(['negative', 'positive'], ['neutral'], SENTIMENT_LABELS) // ['negative', 'neutral', 'positive']
 */
export function mergeClasses(parent: readonly string[], added: readonly string[], preset: readonly string[]): string[] {
  const all = [...new Set([...parent, ...added])];
  if (all.every((l) => preset.includes(l))) return preset.filter((l) => all.includes(l));
  return all;
}
