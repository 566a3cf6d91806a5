import { describe, expect, it } from 'vitest';
import { shapeColumn, shapeNameAt, shapeNames } from '../../../src/data/features/shapes.js';

describe('text shapes', () => {
  it('names sentence openings, endings, skeletons, frames, punctuation and casing', () => {
    expect(shapeNames('when the film is dull , it is great .')).toEqual([
      'starts: when',
      'starts: when the',
      'ends: great',
      'ends: is great',
      'skeleton: when the _ is _ ,',
      'frame: when , .',
      'punctuation: , .',
      'ending: .',
      'casing: all lower',
    ]);
    expect(shapeNames('Free Entry In A Weekly Comp')).toContain('casing: title');
    expect(shapeNames('WIN A PRIZE NOW')).toContain('casing: all upper');
  });

  it('reads casing as word transforms leave it: a missed word or a lower-case function word is still title case', () => {
    // A title-casing tool that splits words at spaces leaves the word after a quote mark as it was.
    expect(
      shapeNames('"and Yet I Have Heard That There Is A Great Deal Of Wine Drunk In Oxford."'),
    ).toContain('casing: title');
    expect(shapeNames('Pride and Prejudice of the Bennet Family')).toContain('casing: title');
    expect(shapeNames('"Oh! Miss Woodhouse, I Would Not Have Missed It," Said Harriet.')).toContain(
      'casing: title',
    );
    // Words are what lies between spaces: a digit or mark first leaves a word's case as it was, and what
    // follows a hyphen or a dot may go either way.
    expect(shapeNames('Am New 2 Club & Will B Gr8 2 C U Please Leave Msg 2day (nat Rate)')).toContain(
      'casing: title',
    );
    expect(shapeNames('Log Onto Http://www.urawinner.com For Un-Redeemed Points')).toContain('casing: title');
    expect(shapeNames('Shop At McDonald And iPhone Store Now')).not.toContain('casing: title');
    // Ordinary prose with a few names is not title case; lower case allows no capital at all.
    expect(shapeNames('Then Emma and Harriet walked to Highbury with Mr. Knightley.')).not.toContain(
      'casing: title',
    );
    expect(shapeNames('i met Emma at the ball')).not.toContain('casing: all lower');
    expect(shapeNames('THE SUREST SIGN OF LOVE, said he')).not.toContain('casing: all upper');
  });

  it("names the opening word's casing where the passage's casing does not", () => {
    expect(shapeNames('THE surest sign that a man is in love.')).toContain('opening casing: upper');
    expect(shapeNames('"THAT\'S right; the shift works."')).toContain('opening casing: upper');
    expect(shapeNames('the Ministry said so.')).toContain('opening casing: lower');
    // A single capital letter is no shape ("A", "I"), nor is an ordinary capitalised opening.
    expect(shapeNames('A real patriot pays the ticket.').some((n) => n.startsWith('opening casing'))).toBe(
      false,
    );
    expect(shapeNames('Real patriots pay.').some((n) => n.startsWith('opening casing'))).toBe(false);
    // All upper or all lower already says it.
    expect(shapeNames('WIN A PRIZE NOW').some((n) => n.startsWith('opening casing'))).toBe(false);
    expect(shapeNames('when it rains').some((n) => n.startsWith('opening casing'))).toBe(false);
  });

  it('reads mail header fields as units, and a Subject line apart from the body', () => {
    const mail = 'From: a@b.org\nX-Mailer: Outlook Express 5.00 Build 9\nSubject: Buy Now !!\n\nhello there.';
    const names = shapeNames(mail);
    expect(names).toContain('x-mailer: outlook express 5.00 build 9');
    expect(names).toContain('subject ending: ! !');
    expect(names).toContain('starts: hello');
    expect(names).not.toContain('starts: buy');
  });

  it('gives equal shapes equal keys across rows, and names each key from its row', () => {
    const texts = ['so , it works .', 'so , nothing works .', 'plain text'];
    const col = shapeColumn(texts);
    const keysOf = (i: number) => Array.from(col.keys.subarray(col.offsets[i], col.offsets[i + 1]));
    const shared = keysOf(0).filter((k) => keysOf(1).includes(k));
    expect(shared.length).toBeGreaterThanOrEqual(3);
    const k = keysOf(0).indexOf(shared[0]);
    expect(shapeNameAt(texts[0], k)).toBe(shapeNameAt(texts[1], keysOf(1).indexOf(shared[0])));
    // Openings and endings cover their words (count * 1024 + first token); the other shapes cover nothing.
    const spansOf = (i: number) => Array.from(col.spans.subarray(col.offsets[i], col.offsets[i + 1]));
    const names = shapeNames(texts[0]);
    expect(names.slice(0, 4)).toEqual(['starts: so', 'starts: so it', 'ends: works', 'ends: it works']);
    // "so , it works ." is tokens so(0) ,(1) it(2) works(3) .(4).
    expect(spansOf(0).slice(0, 4)).toEqual([1 * 1024 + 0, 3 * 1024 + 0, 1 * 1024 + 3, 2 * 1024 + 2]);
    expect(
      spansOf(0)
        .slice(4)
        .every((x) => x === 0),
    ).toBe(true);
  });
});
