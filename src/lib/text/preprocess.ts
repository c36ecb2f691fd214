/**
 * cardiffnlp's tweet preprocessing, applied before any sentiment model sees a text: user mentions
 * become `@user` and links become `http`, as in the model card of twitter-roberta-base-sentiment.
 * @example preprocessTweet('@bob look https://x.co/1 !') // '@user look http !'
 */
export function preprocessTweet(text: string): string {
  return text
    .split(' ')
    .map((token) => (token.startsWith('@') && token.length > 1 ? '@user' : token.startsWith('http') ? 'http' : token))
    .join(' ');
}
