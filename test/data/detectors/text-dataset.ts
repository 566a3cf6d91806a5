/** A text dataset in memory, for detector tests that run one detector on texts and labels (class indices). */
import type { Dataset } from '../../../src/data/detectors/types.js';

export function textSet(texts: string[], labels: number[]): Dataset {
  return {
    n: texts.length,
    ids: texts.map((_, i) => `r${i}`),
    labels: Int32Array.from(labels),
    text: texts,
    numeric: new Map(),
    categorical: new Map(),
  };
}
