import { describe, expect, it } from 'vitest';
import { preprocessTweet } from '$lib/text/preprocess';

describe('cardiffnlp tweet preprocessing', () => {
  it.each([
    ['@bob look https://x.co/1 !', '@user look http !'],
    ['@alice @bob_99 hi', '@user @user hi'],
    ['see http://example.com and www.example.com', 'see http and www.example.com'],
    ['an email me@example.com stays', 'an email me@example.com stays'],
    ['a lone @ stays', 'a lone @ stays'],
    ['httpsomething counts as a link', 'http counts as a link'],
    ['no mentions or links', 'no mentions or links'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(preprocessTweet(input)).toBe(expected);
  });

  it('keeps the spacing of the text (splits on single spaces, like the model card)', () => {
    expect(preprocessTweet('a  @bob')).toBe('a  @user');
  });
});
