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
