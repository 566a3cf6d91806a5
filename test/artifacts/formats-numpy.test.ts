/** The .npy header is parsed like numpy's literal_eval of a dict, and nothing more. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { descrInfo, parseNpyHeader, parsePyLiteral } from '../../src/artifacts/formats/numpy.js';
import { FIXTURES } from '../helpers/cli.js';

function npy(header: string, major = 1): Uint8Array {
  const h = new TextEncoder().encode(`${header}\n`);
  const pre =
    major === 1
      ? [0x93, 78, 85, 77, 80, 89, 1, 0, h.length & 0xff, h.length >> 8]
      : [0x93, 78, 85, 77, 80, 89, major, 0, h.length & 0xff, h.length >> 8, 0, 0];
  return Uint8Array.from([...pre, ...h]);
}

describe('.npy headers', () => {
  it('parses the headers numpy writes (plain, Fortran-ordered, structured, object)', () => {
    const dir = join(FIXTURES, 'real');
    const f32 = parseNpyHeader(readFileSync(join(dir, 'array_f32.npy')));
    expect(f32).toMatchObject({ shape: [3, 4], itemsize: 4, hasObject: false, fortranOrder: false });
    expect(parseNpyHeader(readFileSync(join(dir, 'array_fortran_i16.npy')))).toMatchObject({
      fortranOrder: true,
      itemsize: 2,
    });
    expect(parseNpyHeader(readFileSync(join(dir, 'array_structured.npy')))).toMatchObject({
      itemsize: 20,
      hasObject: false,
    });
    expect(parseNpyHeader(readFileSync(join(dir, 'array_object.npy'))).hasObject).toBe(true);
  });

  it('computes item sizes, including unicode, datetime and nested structures', () => {
    expect(descrInfo('<U10').itemsize).toBe(40);
    expect(descrInfo('|S5').itemsize).toBe(5);
    expect(descrInfo('<M8[ns]').itemsize).toBe(8);
    expect(
      descrInfo([
        ['a', '<i4'],
        ['b', [['c', '|O']]],
      ]),
    ).toEqual({ itemsize: 12, hasObject: true });
  });

  it('rejects anything that is not a plain literal dict with the three keys', () => {
    for (const h of [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
      "{'descr': '<f4', 'fortran_order': False}",
      "__import__('os').system('id')",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
      "{'descr': 'weird', 'fortran_order': False, 'shape': (2,)}",
    ]) {
      expect(() => parseNpyHeader(npy(h)), h).toThrow();
    }
    expect(() =>
      parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 2)),
    ).not.toThrow();
    expect(() => parsePyLiteral('('.repeat(100))).toThrow();
  });
});
