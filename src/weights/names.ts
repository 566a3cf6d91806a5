/**
 * Tensor names matched across naming schemes: the same weight is `transformer.h.0.attn.c_attn.weight` in one
 * file and `h.0.attn.c_attn.weight` or `model.transformer.h.0...` in another (wrappers, DataParallel's
 * `module.`, torch.compile's `_orig_mod.`, PEFT's `base_model.model.`). Exact names are matched first; the
 * rest by their canonical form when that is unambiguous on both sides.
 */
import { pushAll } from '../core/arrays.js';

const WRAPPERS = /^(?:base_model\.model\.|module\.|_orig_mod\.|model\.|transformer\.)+/;

export function canonicalName(name: string): string {
  return name.replace(WRAPPERS, '');
}

/** The layer index of a per-layer tensor (the first number among the name's parts). */
export function layerOf(name: string): number | undefined {
  const m = /(?:^|\.)(\d+)(?:\.|$)/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The role of a tensor: its canonical name with layer numbers replaced, so layers can be compared. */
export function roleOf(name: string): string {
  return canonicalName(name).replace(/(^|\.)\d+(?=\.|$)/g, '$1#');
}

export interface NameMatch {
  pairs: Array<{ base: string; candidate: string }>;
  onlyBase: string[];
  onlyCandidate: string[];
}

export function matchNames(base: string[], candidate: string[]): NameMatch {
  const cand = new Set(candidate);
  const pairs: NameMatch['pairs'] = [];
  const restBase: string[] = [];
  for (const b of base) {
    if (cand.has(b)) {
      pairs.push({ base: b, candidate: b });
      cand.delete(b);
    } else restBase.push(b);
  }
  const byCanon = (names: Iterable<string>) => {
    const m = new Map<string, string[]>();
    for (const n of names) {
      const k = canonicalName(n);
      m.set(k, [...(m.get(k) ?? []), n]);
    }
    return m;
  };
  const cb = byCanon(restBase);
  const cc = byCanon(cand);
  const onlyBase: string[] = [];
  for (const [k, bs] of cb) {
    const cs = cc.get(k);
    if (bs.length === 1 && cs?.length === 1) {
      pairs.push({ base: bs[0], candidate: cs[0] });
      cc.delete(k);
    } else pushAll(onlyBase, bs);
  }
  const onlyCandidate = [...cc.values()].flat();
  return { pairs, onlyBase: onlyBase.sort(), onlyCandidate: onlyCandidate.sort() };
}
