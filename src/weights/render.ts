/** `antidote diff` reports as text and as a self-contained HTML page (a layer-by-matrix heatmap of the delta). */
import { atLeast, type Severity } from '../core/severity.js';
import { banner, chart, esc, findingsList, page, table } from '../report/html.js';
import { renderFindingLine } from '../report/text.js';
import type { TensorDelta } from './diff/compare.js';
import { TOP_K } from './diff/compare.js';
import type { DiffReport } from './diff/index.js';

const pct = (x: number) => {
  if (!Number.isFinite(x)) return 'new';
  const p = x * 100;
  return `${p >= 10 ? p.toFixed(0) : p.toPrecision(2)}%`;
};
const rankOf = (t: TensorDelta) =>
  t.spectrum ? (t.rank99 !== undefined ? String(t.rank99) : `>${TOP_K}`) : '-';

function headline(r: DiffReport, failOn: Severity): { ok: boolean; text: string } {
  const blocking = r.findings.filter((f) => atLeast(f.severity, failOn));
  if (r.mode === 'adapter') {
    const a = r.adapter;
    return {
      ok: !blocking.length,
      text: a?.suspicious
        ? `Adapter looks backdoored (score ${a.score.toFixed(2)})`
        : blocking.length
          ? 'Adapter has blocking findings'
          : a?.probe
            ? `Adapter looks benign (score ${a.score.toFixed(2)})`
            : 'Adapter not judged (no verdict without probing it through its base)',
    };
  }
  const kind = r.summary?.kind;
  const text =
    kind === 'edit'
      ? 'Surgical edit of the weights'
      : kind === 'identical' && r.summary?.notJudged
        ? `Not judged: ${r.summary.notJudged} weight tensor${r.summary.notJudged > 1 ? 's' : ''} could not be compared`
        : kind === 'identical'
          ? r.summary?.convertedTo?.length
            ? `Weights identical to the base, converted to ${r.summary.convertedTo.join(' and ')}`
            : 'Weights identical to the base'
          : 'Ordinary fine-tune';
  return {
    ok: !blocking.length,
    text: blocking.length && kind !== 'edit' ? `${text}, with blocking findings` : text,
  };
}

export function topChanged(r: DiffReport, n = 10): TensorDelta[] {
  return r.tensors
    .filter((t) => t.status === 'changed')
    .sort(
      (a, b) =>
        (b.spike ?? 0) * (b.energyTop1 ?? 0) - (a.spike ?? 0) * (a.energyTop1 ?? 0) ||
        b.relDelta - a.relDelta,
    )
    .slice(0, n);
}

export function renderDiffText(r: DiffReport, opts: { colour: boolean; failOn: Severity }): string {
  const h = headline(r, opts.failOn);
  const lines = [
    `${h.ok ? 'PASS' : 'BLOCK'}  ${h.text}`,
    `  base      ${r.base.path} (${r.base.format}, ${r.base.tensors} tensors)`,
    `  candidate ${r.candidate.path} (${r.candidate.format}, ${r.candidate.tensors} tensors)`,
  ];
  if (r.mode === 'weights' && r.summary) {
    const s = r.summary;
    lines.push(
      `  ${s.compared} tensors compared: ${s.changed} changed (${s.changedMatrices} matrices)${r.tied.length ? `, ${r.tied.length} tied copies` : ''}${r.added.length ? `, ${r.added.length} added` : ''}${r.removed.length ? `, ${r.removed.length} removed` : ''}${r.reshaped.length ? `, ${r.reshaped.length} reshaped` : ''}`,
    );
    const top = topChanged(r, 5);
    if (top.length) {
      lines.push(
        "  most distinctive changes (relative size, rank for 99% of the change, top direction's share):",
      );
      for (const t of top)
        lines.push(
          `    ${t.candidate}  ${pct(t.relDelta)}  rank ${rankOf(t)}  top ${t.energyTop1 !== undefined ? pct(t.energyTop1) : '-'}`,
        );
    }
  }
  if (r.mode === 'adapter' && r.adapter) {
    const a = r.adapter;
    lines.push(
      `  ${a.peftType ?? 'adapter'} rank ${a.rank ?? '?'}, alpha ${a.alpha ?? '?'}, ${a.modules} modules; ${a.probe ? `score ${a.score.toFixed(2)} (threshold ${a.threshold.toFixed(2)})` : `not probed: ${a.probeSkipped ?? 'no base'}`}`,
      `  basis: ${a.basis}`,
    );
  }
  lines.push('');
  for (const f of r.findings) lines.push(renderFindingLine(f, opts.colour));
  lines.push('', `compared in ${(r.elapsedMs / 1000).toFixed(2)} s`);
  return `${lines.join('\n')}\n`;
}

/** Heatmap: one row per layer, one column per matrix role; colour = log10 of the relative delta, text = rank. */
function heatmap(r: DiffReport): string {
  const mats = r.tensors.filter((t) => t.layer !== undefined && t.shape.length >= 2);
  if (!mats.length) return '<p class="note">No per-layer matrices to draw.</p>';
  const roles = [...new Set(mats.map((t) => t.role))].sort();
  const layers = [...new Set(mats.map((t) => t.layer as number))].sort((a, b) => a - b);
  const edited = new Set((r.summary?.edited ?? []).map((e) => e.tensor));
  const cw = 92;
  const ch = 22;
  const left = 60;
  const top = 120;
  const cells: string[] = [];
  const finite = mats
    .filter((t) => t.status === 'changed' && Number.isFinite(t.relDelta) && t.relDelta > 0)
    .map((t) => Math.log10(t.relDelta));
  const lo = finite.length ? Math.min(...finite) : -6;
  const hi = finite.length ? Math.max(...finite) : 0;
  for (const t of mats) {
    const x = left + roles.indexOf(t.role) * cw;
    const y = top + layers.indexOf(t.layer as number) * ch;
    let fill = '#f0f2f5';
    if (t.status === 'changed') {
      const v = Number.isFinite(t.relDelta) ? (Math.log10(t.relDelta) - lo) / (hi - lo || 1) : 1;
      const light = Math.round(92 - 55 * v);
      fill = `hsl(${edited.has(t.candidate) ? 0 : 215},70%,${light}%)`;
    }
    const label =
      t.status === 'changed' ? `${pct(t.relDelta)} r${rankOf(t)}` : t.status === 'identical' ? '=' : 'n/c';
    cells.push(
      `<g><title>${esc(`${t.candidate}: ${t.status}${t.status === 'changed' ? `, ${pct(t.relDelta)} of its norm, rank ${rankOf(t)}` : ''}`)}</title><rect x="${x}" y="${y}" width="${cw - 2}" height="${ch - 2}" fill="${fill}"${edited.has(t.candidate) ? ' stroke="#b01c1c" stroke-width="2"' : ''}/><text x="${x + 4}" y="${y + 15}" font-size="11">${esc(label)}</text></g>`,
    );
  }
  const heads = roles.map(
    (ro, i) =>
      `<text transform="translate(${left + i * cw + 10},${top - 6}) rotate(-35)" font-size="11">${esc(ro.replace(/^.*?#\./, ''))}</text>`,
  );
  const rows = layers.map(
    (l, i) =>
      `<text x="${left - 8}" y="${top + i * ch + 15}" font-size="11" text-anchor="end">layer ${l}</text>`,
  );
  const w = left + roles.length * cw + 20;
  const h = top + layers.length * ch + 10;
  return chart(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="delta size and rank per layer and matrix">${heads.join('')}${rows.join('')}${cells.join('')}</svg>`,
  );
}

export function renderDiffHtml(r: DiffReport, failOn: Severity): string {
  const h = headline(r, failOn);
  const parts = [
    `<h1>antidote diff</h1><p class="meta">${esc(r.base.path)} &rarr; ${esc(r.candidate.path)}</p>`,
    banner(
      h.ok,
      h.text,
      r.findings.filter((f) => atLeast(f.severity, failOn)).map((f) => f.message),
    ),
    '<h2>Findings</h2>',
    findingsList(r.findings),
  ];
  if (r.mode === 'weights') {
    parts.push(
      '<h2>Change per layer and matrix</h2><p class="note">Colour: size of the change relative to the tensor (darker = larger, red = named by an edit finding); text: relative size and the rank holding 99% of the change; "=" identical.</p>',
      heatmap(r),
      '<h2>Most distinctive changes</h2>',
      table(
        ['tensor', 'change', 'rank (99%)', 'top direction', 'sigma1/sigma2'],
        topChanged(r, 20).map((t) => [
          t.candidate,
          pct(t.relDelta),
          rankOf(t),
          t.energyTop1 !== undefined ? pct(t.energyTop1) : '-',
          t.spike !== undefined && Number.isFinite(t.spike) ? t.spike.toFixed(1) : '-',
        ]),
      ),
    );
  } else if (r.adapter) {
    const a = r.adapter;
    parts.push(
      '<h2>Adapter</h2>',
      `<p>${esc(a.basis)}</p><p class="note">${esc(a.limits)}</p>`,
      table(
        ['module', 'rank', 'sigma1', 'top direction', 'entropy', 'kurtosis'],
        a.topModules.map((m) => [
          m.module,
          String(m.rank),
          m.top.toPrecision(3),
          pct(m.energyTop1),
          m.entropy.toFixed(2),
          m.kurtosis.toFixed(1),
        ]),
      ),
    );
  }
  return page('antidote diff', parts.join('\n'));
}
