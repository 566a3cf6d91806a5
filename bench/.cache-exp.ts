import { join } from 'node:path';
import { loadOnnxModel } from '../src/gate/models/onnx.js';
import { type InputBatch, sliceBatch } from '../src/gate/models/types.js';
import { readTable } from '../src/gate/read.js';
import type { Column } from '../src/gate/table.js';
import { fitProfile } from '../src/guard/fit.js';
import { createScorer } from '../src/guard/scorer.js';
const FIX = '/work/wt/guard-core/test/fixtures/guard';
const [name, layersArg, mixArg, pArg] = process.argv.slice(2);
const cases: Record<string, { prefix: string; label: string; column?: string; target: string; trig: any[] }> = {
  sst2_rare: { prefix: 'sst2', label: 'label', column: 'sentence', target: '1', trig: ['cf', 'zq'] },
  sms_phrase: { prefix: 'sms', label: 'label', column: 'text', target: '0', trig: ['talk to you soon'] },
  adult_conj: { prefix: 'adult', label: 'income', target: '>50K', trig: [[['race', 'Amer-Indian-Eskimo'], ['education', '5th-6th']]] },
};
const c = cases[name];
const modelPath = join(FIX, `${name}_backdoor.onnx`);
const layers = layersArg && layersArg !== '-' ? layersArg.split(',') : undefined;
const profile = await fitProfile({ model: modelPath, trusted: join(FIX, `${c.prefix}_trusted.csv`), label: c.label, layers, strip: { mix: Number(mixArg ?? 0.3), perturbations: Number(pArg ?? 16) } });
const m = await loadOnnxModel(modelPath, { classes: 2 });
const scorer = await createScorer(profile, { model: modelPath, strip: { mode: 'all', maxInstances: 100000, deadlineMs: 600000 } });
const raw = await readTable(join(FIX, `${c.prefix}_traffic.csv`));
const lab = raw.columns.get(c.label) as Column;
const batch: InputBatch = { n: raw.n, columns: new Map(profile.inputs.map((x) => [x.name, raw.columns.get(x.name) as Column])), ids: Array.from({ length: raw.n }, (_, i) => String(i)) };
const labelOf = (i: number) => (lab.kind === 'number' ? String(lab.values[i]) : lab.values[i].trim());
const others = Array.from({ length: raw.n }, (_, i) => i).filter((i) => labelOf(i) !== c.target).slice(0, 300);
const tb = sliceBatch(batch, others);
let s = 5;
others.forEach((_, i) => {
  const t = c.trig[i % c.trig.length];
  if (typeof t === 'string') {
    const col = tb.columns.get(c.column!) as any;
    const w = col.values[i].split(' ');
    s = (s * 1103515245 + 12345) % 2147483648;
    w.splice(s % (w.length + 1), 0, ...t.split(' '));
    col.values[i] = w.join(' ');
  } else for (const [cn, v] of t) { const col = tb.columns.get(cn) as any; col.values[i] = col.kind === 'number' ? Number(v) : v; }
});
const run = async (b: InputBatch) => scorer.scoreBatch(b, await m.score(b), (x) => m.score(x));
const vt = await run(tb);
const cleanRows = Array.from({ length: Math.min(raw.n, 3000) }, (_, i) => i);
const vc = await run(sliceBatch(batch, cleanRows));
const rate = (vs: any[], id: string) => (100 * vs.filter((v) => v.checks.find((x: any) => x.id === id)?.flagged).length / vs.length).toFixed(1);
const sc = (vs: any[], id: string) => { const a = vs.map((v) => v.checks.find((x: any) => x.id === id)?.score ?? 0).sort((a: number, b: number) => a - b); return [0.1, 0.5, 0.9].map((q) => a[Math.floor(q * (a.length - 1))].toFixed(3)).join('/'); };
console.log(name, 'layers', profile.activation?.layers.map((l) => `${l.name}:${l.classes.map((c) => c.shrinkage.toFixed(3)).join(',')}`).join(' '), 'mix', mixArg, 'P', pArg);
console.log(' act thr', profile.thresholds.checks['guard/activation']?.threshold.toFixed(3), 'trig', rate(vt, 'guard/activation'), 'clean', rate(vc, 'guard/activation'), 'scores trig', sc(vt, 'guard/activation'), 'clean', sc(vc, 'guard/activation'));
console.log(' strip thr', profile.thresholds.checks['guard/strip']?.threshold.toFixed(3), 'trig', rate(vt, 'guard/strip'), 'clean', rate(vc, 'guard/strip'), 'scores trig', sc(vt, 'guard/strip'), 'clean', sc(vc, 'guard/strip'));
await scorer.close();
