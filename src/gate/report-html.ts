/**
 * report.html of `antidote gate`: the decision and its reasons, the metrics with their intervals, the regions
 * where the candidate lost, the output shift and the trigger probes, with inline SVG charts (src/report/charts).
 */
import { barChart, chartSvg, histogramChart, intervalChart } from '../report/charts.js';
import { banner, chart, esc, findingsList, page, table } from '../report/html.js';
import type { GateReport } from './decision.js';
import { isRegression, marginFor } from './holdout.js';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const num = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '-');

export async function renderGateHtml(r: GateReport): Promise<string> {
  const parts: string[] = [];
  parts.push(
    `<h1>antidote gate</h1><div class="meta">${esc(r.createdAt)} · antidote ${esc(r.tool.version)} · ${(r.durationMs / 1000).toFixed(1)} s</div>`,
  );
  parts.push(
    banner(
      r.decision === 'promote-with-caveats' ? 'warn' : r.decision === 'promote',
      r.decision === 'promote'
        ? 'PROMOTE: the candidate passed every check.'
        : r.decision === 'promote-with-caveats'
          ? 'PROMOTE WITH CAVEATS: the checks that ran passed, but some checks were skipped (listed below).'
          : 'BLOCK: the candidate must not be promoted.',
      r.decision === 'block' ? r.reasons : (r.caveats ?? []),
    ),
  );
  parts.push('<h2>Inputs</h2>');
  parts.push(
    table(
      ['', 'kind', 'source', 'digest'],
      [
        ['incumbent', r.models.incumbent.kind, r.models.incumbent.source, r.models.incumbent.digest],
        ['candidate', r.models.candidate.kind, r.models.candidate.source, r.models.candidate.digest],
        ['trusted set', `${r.trusted.rows} rows`, r.trusted.path, r.trusted.digest],
        ...(r.live ? [['live set', `${r.live.rows} rows`, r.live.path, r.live.digest]] : []),
      ],
    ),
  );
  if (r.metrics) {
    parts.push('<h2>Trusted holdout</h2>');
    parts.push(
      `<p class="note">${r.metrics.rows} labelled rows; ${r.metrics.replicates} paired bootstrap replicates, ${(100 * r.metrics.confidence).toFixed(0)}% intervals. A regression counts only when its interval excludes zero and it exceeds the practical margin.</p>`,
    );
    const ctx = { settings: r.settings };
    parts.push(
      table(
        [
          'metric',
          'incumbent',
          'candidate',
          'difference',
          'interval of the difference',
          'margin',
          'regression',
        ],
        r.metrics.metrics.map((m) => [
          m.name,
          m.name === 'log_loss' ? num(m.incumbent) : pct(m.incumbent),
          m.name === 'log_loss' ? num(m.candidate) : pct(m.candidate),
          num(m.diff),
          `[${num(m.ci[0])}, ${num(m.ci[1])}]`,
          num(marginFor(ctx, m.name), 3),
          isRegression(m, marginFor(ctx, m.name)) ? 'yes' : 'no',
        ]),
        [1, 2, 3],
      ),
    );
    parts.push(
      chart(
        await chartSvg(
          intervalChart(
            r.metrics.metrics.map((m) => {
              const sign = m.higherIsBetter ? 1 : -1;
              return {
                name: m.name,
                value: sign * m.diff,
                low: Math.min(sign * m.ci[0], sign * m.ci[1]),
                high: Math.max(sign * m.ci[0], sign * m.ci[1]),
                flagged: isRegression(m, marginFor(ctx, m.name)),
              };
            }),
            {
              title: 'Candidate minus incumbent (right is better)',
              xTitle: 'difference (log loss sign flipped)',
            },
          ),
        ),
      ),
    );
  }
  if (r.liveMetrics) {
    parts.push('<h2>Live versus trusted</h2>');
    parts.push(
      table(
        ['metric', 'difference on live', 'interval', 'difference on trusted', 'interval'],
        r.liveMetrics.metrics
          .filter((m) => ['accuracy', 'log_loss', 'auc'].includes(m.name))
          .map((m) => {
            const t = r.metrics?.metrics.find((x) => x.name === m.name);
            return [
              m.name,
              num(m.diff),
              `[${num(m.ci[0])}, ${num(m.ci[1])}]`,
              t ? num(t.diff) : '-',
              t ? `[${num(t.ci[0])}, ${num(t.ci[1])}]` : '-',
            ];
          }),
        [1, 3],
      ),
    );
  }
  if (r.slices) {
    parts.push('<h2>Slices</h2>');
    const d = r.slices.discovery;
    if (d) {
      parts.push(
        `<p class="note">Automatic discovery searched ${d.evaluated} conjunctions of up to ${r.settings.slices.maxTerms} predicates over ${d.predicates} predicates; p-values are Bonferroni-corrected for all of them.</p>`,
      );
      if (d.top.length) {
        parts.push(
          table(
            [
              'region where the candidate lost most',
              'rows',
              'incumbent acc.',
              'candidate acc.',
              'lost',
              'gained',
              'corrected p',
              'finding',
            ],
            d.top.map((s) => [
              s.slice,
              s.size,
              pct(s.incumbentAccuracy),
              pct(s.candidateAccuracy),
              s.lost,
              s.gained,
              s.pAdjusted.toExponential(1),
              s.significant ? 'yes' : 'no',
            ]),
            [1, 2, 3, 4, 5],
          ),
        );
        parts.push(
          chart(
            await chartSvg(
              barChart(
                d.top.flatMap((s) => [
                  {
                    slice: s.slice.length > 60 ? `${s.slice.slice(0, 57)}...` : s.slice,
                    model: 'incumbent',
                    accuracy: s.incumbentAccuracy,
                  },
                  {
                    slice: s.slice.length > 60 ? `${s.slice.slice(0, 57)}...` : s.slice,
                    model: 'candidate',
                    accuracy: s.candidateAccuracy,
                  },
                ]),
                {
                  x: 'accuracy',
                  y: 'slice',
                  color: 'model',
                  title: 'Accuracy in the regions where the candidate lost most',
                  format: '%',
                },
              ),
            ),
          ),
        );
      } else parts.push('<p class="note">No region where the candidate loses more than it gains.</p>');
    }
    if (r.slices.declared.length) {
      parts.push(
        table(
          [
            'declared slice',
            'rows',
            'incumbent acc.',
            'candidate acc.',
            'lost',
            'gained',
            'Holm p',
            'finding',
          ],
          r.slices.declared.map((s) => [
            s.slice,
            s.size,
            pct(s.incumbentAccuracy),
            pct(s.candidateAccuracy),
            s.lost,
            s.gained,
            s.pAdjusted.toExponential(1),
            s.significant ? 'yes' : 'no',
          ]),
          [1, 2, 3, 4, 5],
        ),
      );
    }
  }
  if (r.shift) {
    const s = r.shift;
    parts.push('<h2>Output shift between versions</h2>');
    parts.push(
      `<p>PSI ${num(s.psi, 3)} · KS ${num(s.ks, 3)} (p ${s.ksP.toExponential(1)}) · ${s.flips} predictions changed class (${pct(s.flipRate)})${s.region && s.region.lift >= 2 ? ` · most flips (${pct(s.region.coverage)}) fall in <code>${esc(s.region.slice)}</code>, ${s.region.rows} rows, ${s.region.lift.toFixed(1)}x the base flip rate` : ''}.</p>`,
    );
    parts.push(
      chart(
        await chartSvg(
          histogramChart(
            [
              ...s.histogram.bins.map((b, i) => ({
                bin: b,
                count: s.histogram.incumbent[i],
                series: 'incumbent',
              })),
              ...s.histogram.bins.map((b, i) => ({
                bin: b,
                count: s.histogram.candidate[i],
                series: 'candidate',
              })),
            ],
            {
              title: 'Scores on the trusted set',
              xTitle: r.trusted.classes.length === 2 ? `P(${r.trusted.classes[1]})` : 'top probability',
            },
          ),
        ),
      ),
    );
  }
  if (r.probes) {
    parts.push('<h2>Trigger probes</h2>');
    parts.push(
      `<p class="note">${r.probes.triggers} candidate triggers inserted into trusted inputs of other classes (${r.probes.tests} tests, Bonferroni-corrected); a trigger blocks when the candidate flips far more than on random controls and than the incumbent.</p>`,
    );
    const top = r.probes.results.slice(0, 15);
    parts.push(
      table(
        [
          'trigger',
          'origin',
          'toward',
          'rows',
          'candidate flips',
          'incumbent flips',
          'control flips',
          'blocks',
        ],
        top.map((p) => [
          p.kind === 'token' ? `"${p.trigger}" in ${p.column}` : `${p.column} = ${p.trigger}`,
          p.origin,
          p.target,
          p.rows,
          pct(p.candidateFlipRate),
          pct(p.incumbentFlipRate),
          pct(p.controlFlipRate),
          p.blocking ? 'yes' : 'no',
        ]),
        [3, 4, 5, 6],
      ),
    );
    parts.push(
      chart(
        await chartSvg(
          barChart(
            top.slice(0, 8).flatMap((p) => {
              const label = `${p.kind === 'token' ? `"${p.trigger}"` : `${p.column}=${p.trigger}`} -> ${p.target}`;
              return [
                { trigger: label, model: 'candidate', rate: p.candidateFlipRate },
                { trigger: label, model: 'incumbent', rate: p.incumbentFlipRate },
                { trigger: label, model: 'control', rate: p.controlFlipRate },
              ];
            }),
            {
              x: 'rate',
              y: 'trigger',
              color: 'model',
              title: 'Flip rate when the trigger is inserted',
              format: '%',
            },
          ),
        ),
      ),
    );
  }
  parts.push('<h2>Findings</h2>');
  parts.push(findingsList(r.findings));
  parts.push('<h2>Checks</h2>');
  parts.push(
    table(
      ['check', 'ran', 'findings', 'note'],
      r.checks.map((c) => [c.name, c.ran ? 'yes' : 'no', c.findings, c.note ?? '']),
    ),
  );
  return page(`antidote gate: ${r.decision}`, parts.join('\n'));
}
