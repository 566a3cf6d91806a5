/** Opcode-built pickles for tests (never loaded by anyone; CPython would run some of them). */
const enc = new TextEncoder();

export function bytes(...parts: Array<string | number | number[] | Uint8Array>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') out.push(...enc.encode(p));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

/** Protocol 0: `module.name(arg)` via GLOBAL + REDUCE. */
export function callPickle0(module: string, name: string, arg: string): Uint8Array {
  return bytes(`c${module}\n${name}\n(S'${arg}'\ntR.`);
}

/** Protocol 2: `module.name(arg)`. */
export function callPickle2(module: string, name: string, arg: string): Uint8Array {
  const a = enc.encode(arg);
  return bytes(
    0x80,
    2,
    `c${module}\n${name}\n`,
    0x58,
    [a.length & 0xff, (a.length >> 8) & 0xff, 0, 0],
    a,
    0x85,
    0x52,
    0x2e,
  );
}

/** A benign protocol-2 pickle: the dict {'a': 1}. */
export const benignPickle = bytes(0x80, 2, 0x7d, 0x58, [1, 0, 0, 0], 'a', 0x4b, 1, 0x73, 0x2e);

/** A pickle that only builds an OrderedDict (allowed everywhere). */
export const orderedDictPickle = bytes(0x80, 2, 'ccollections\nOrderedDict\n', 0x29, 0x52, 0x2e);
