import vader from 'vader-sentiment';

/**
 * VADER (Hutto & Gilbert, ICWSM 2014) through `vader-sentiment`, the JavaScript port: ~7,500 rated words plus
 * its rules for negation, "but", intensifiers, ALL CAPS and "!". Scores are those of the package.
 * @example vaderScores('not good').compound // -0.3412
 */
export function vaderScores(text: string): { neg: number; neu: number; pos: number; compound: number } {
  return vader.SentimentIntensityAnalyzer.polarity_scores(text);
}

/** VADER's authors' threshold: compound ≥ 0.05 is positive, ≤ −0.05 negative, neutral between. */
export const VADER_THRESHOLD = 0.05;
