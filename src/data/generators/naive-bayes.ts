/**
 * A small multinomial naive Bayes over words, used only by the generators to play an attacker who picks
 * the rows nearest the decision boundary (the least confident ones) to flip. Independent of the audit's
 * own learner on purpose, so the benchmark does not grade the audit with its own model.
 */
export function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
}

export class NaiveBayes {
  private counts = new Map<string, number[]>();
  private totals: number[];
  private docs: number[];
  constructor(private readonly classes: string[]) {
    this.totals = classes.map(() => 0);
    this.docs = classes.map(() => 0);
  }
  fit(rows: Array<{ text: string; label: string }>): this {
    for (const r of rows) {
      const c = this.classes.indexOf(r.label);
      if (c < 0) continue;
      this.docs[c]++;
      for (const t of tokens(r.text)) {
        let v = this.counts.get(t);
        if (!v) {
          v = this.classes.map(() => 0);
          this.counts.set(t, v);
        }
        v[c]++;
        this.totals[c]++;
      }
    }
    return this;
  }
  /** log P(class | text) up to a constant, per class. */
  logScores(text: string): number[] {
    const vocab = this.counts.size + 1;
    const n = this.docs.reduce((a, b) => a + b, 0);
    return this.classes.map((_, c) => {
      let s = Math.log((this.docs[c] + 1) / (n + this.classes.length));
      for (const t of tokens(text))
        s += Math.log(((this.counts.get(t)?.[c] ?? 0) + 1) / (this.totals[c] + vocab));
      return s;
    });
  }
  /** |log-odds| between the two best classes: small = near the boundary. */
  margin(text: string): number {
    const s = this.logScores(text).sort((a, b) => b - a);
    return s[0] - s[1];
  }
}
