/**
 * The dashboard's front end (bundled by esbuild into dist/server/ui/app.js; no CDN, works offline). Every
 * string from a report or a row is put into the page as text (textContent), never as markup; the only markup
 * inserted is the server's chart SVG. The token lives in sessionStorage and goes out as a bearer header:
 * no cookie, so no cross-site request can carry it.
 */

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field
type Json = Record<string, any>;
const TOKEN_KEY = 'antidote.token';
const main = document.getElementById('main') as HTMLElement;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string | null | undefined>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children)
    if (c !== null && c !== undefined) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function table(
  head: string[],
  rows: Array<Array<Node | string>>,
  rowClass?: (i: number) => string,
): HTMLTableElement {
  const t = el('table', {}, el('tr', {}, ...head.map((h) => el('th', {}, h))));
  rows.forEach((r, i) => {
    const tr = el('tr', rowClass ? { class: rowClass(i) } : {}, ...r.map((c) => el('td', {}, c)));
    t.append(tr);
  });
  return t;
}

function svgBox(svg: string | null | undefined, testid: string): HTMLElement | null {
  if (!svg) return null;
  const box = el('div', { class: 'chart', 'data-testid': testid });
  // Server-rendered vega SVG (text escaped by vega); parsed as SVG, never as HTML.
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  const root = doc.documentElement;
  if (root.nodeName.toLowerCase() === 'svg') {
    for (const n of root.querySelectorAll('script, foreignObject')) n.remove();
    box.append(document.importNode(root, true));
  }
  return box;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`;
const fix = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '-' : x.toFixed(d));
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const when = (s: string) => s.replace('T', ' ').slice(0, 19);

async function api(path: string, init: RequestInit = {}): Promise<Json> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, {
    ...init,
    headers: {
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      authorization: `Bearer ${token ?? ''}`,
    },
  });
  const body = (await res.json().catch(() => ({}))) as Json;
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = '#/login';
    throw new Error('signed out');
  }
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

let me: Json | null = null;

function show(...nodes: Array<Node | string | null | undefined>) {
  main.replaceChildren(...(nodes.filter((n) => n !== null && n !== undefined) as Array<Node | string>));
}
let cleanup: (() => void) | null = null;

function nav(active: string) {
  const n = document.getElementById('nav') as HTMLElement;
  n.replaceChildren(
    ...[
      ['runs', 'Runs'],
      ['models', 'Models'],
      ['data', 'Data'],
      ['review', 'Review queue'],
    ].map(([k, label]) => el('a', { href: `#/${k}`, class: active === k ? 'active' : '' }, label)),
  );
  const who = document.getElementById('who') as HTMLElement;
  who.replaceChildren(me ? `${me.name} (${me.role}) ` : '', me ? signOut() : '');
}

function signOut(): HTMLElement {
  const a = el('a', { href: '#/login', 'data-testid': 'signout' }, 'sign out');
  a.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
  });
  return a;
}

function loginPage() {
  nav('');
  const input = el('input', {
    type: 'password',
    placeholder: 'adt_...',
    autocomplete: 'off',
    'data-testid': 'token',
  });
  const msg = el('p', { class: 'err' });
  const form = el(
    'form',
    { class: 'card login' },
    el('h1', {}, 'Sign in'),
    el('p', { class: 'muted' }, 'Paste a token made with `antidote serve token create --role reviewer`.'),
    input,
    el('button', { type: 'submit', 'data-testid': 'signin' }, 'Sign in'),
    msg,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      me = await api('/api/me');
      location.hash = '#/runs';
    } catch (err) {
      msg.textContent = 'That token was not accepted.';
      void err;
    }
  });
  show(form);
  input.focus();
}

async function runsPage() {
  nav('runs');
  const r = await api('/api/runs?limit=200');
  show(
    el('h1', {}, `Runs (${r.total})`),
    table(
      ['when', 'kind', 'verdict', 'what'],
      r.runs.map((x: Json) => [
        when(x.createdAt),
        x.kind,
        el('span', { class: `v-${x.verdict}` }, x.verdict),
        el('a', { href: `#/run/${x.id}` }, x.title),
      ]),
    ),
  );
}

async function runPage(id: string) {
  nav('runs');
  const run = await api(`/api/runs/${id}`);
  const findings = (run.report.findings ?? []) as Json[];
  const frame = el('iframe', {
    class: 'report',
    sandbox: '',
    title: 'report',
    'data-testid': 'report-frame',
  });
  show(
    el('h1', {}, run.title),
    el(
      'p',
      { class: 'muted' },
      `${run.kind} · ${when(run.createdAt)} · verdict `,
      el('span', { class: `v-${run.verdict}` }, run.verdict),
      ` · posted by ${run.postedBy ?? '-'}`,
    ),
    run.kind === 'audit'
      ? el('p', {}, el('a', { href: `#/review/${id}` }, 'Open the review queue of this batch'))
      : null,
    el('h2', {}, 'Findings'),
    table(
      ['severity', 'rule', 'message'],
      findings.map((f) => [f.severity, f.rule, f.message]),
    ),
    el('h2', {}, 'Report'),
    frame,
  );
  const rep = await api(`/api/runs/${id}/report.html`);
  frame.srcdoc = rep.html;
}

async function modelsPage() {
  nav('models');
  const r = await api('/api/models');
  if (r.models.length === 1) {
    location.hash = `#/model/${encodeURIComponent(r.models[0].name)}`;
    return;
  }
  show(
    el('h1', {}, 'Models'),
    table(
      ['model', 'versions', 'gate runs', 'last'],
      r.models.map((m: Json) => [
        el('a', { href: `#/model/${encodeURIComponent(m.name)}` }, m.name),
        String(m.versions),
        String(m.runs),
        when(m.lastAt),
      ]),
    ),
  );
}

async function modelPage(name: string) {
  nav('models');
  const r = await api(`/api/models/${encodeURIComponent(name)}`);
  const l = r.lineage as Json;
  const charts = el(
    'div',
    { 'data-testid': 'model-charts' },
    el('p', { class: 'muted' }, 'drawing the charts...'),
  );
  const versions = l.versions as Json[];
  const flagged = (v: Json) => Boolean(v.regionShift && v.regionShift.psi >= 0.1) || v.decision === 'block';
  show(
    el('h1', {}, `Model ${l.name}`),
    el(
      'p',
      { class: 'muted' },
      `Baseline: ${l.baseline ? l.baseline.label : '-'} · ${versions.length} versions`,
    ),
    el('h2', {}, 'Versions'),
    table(
      [
        'version',
        'gate run',
        'decision',
        'PSI vs baseline',
        'PSI vs predecessor',
        'region the gate named',
        'PSI in region',
        'mean shift in region',
      ],
      versions.map((v) => [
        el('a', { href: `#/run/${v.runId}` }, v.label),
        when(v.createdAt),
        el('span', { class: `v-${v.decision}` }, v.decision),
        fix(v.vsBaseline.overall),
        fix(v.vsPredecessor.overall),
        v.region ?? '-',
        fix(v.regionShift?.psi),
        v.regionShift
          ? `${v.regionShift.meanShift >= 0 ? '+' : ''}${(100 * v.regionShift.meanShift).toFixed(1)} pts`
          : '-',
      ]),
      (i) => (flagged(versions[i]) ? 'flag' : ''),
    ),
    charts,
  );
  const c = await api(`/api/models/${encodeURIComponent(name)}/charts`);
  charts.replaceChildren(
    ...([
      svgBox(c.svg.timeline, 'chart-timeline'),
      svgBox(c.svg.ridges, 'chart-ridges'),
      svgBox(c.svg.shift, 'chart-shift'),
      svgBox(c.svg.regions, 'chart-regions'),
    ].filter(Boolean) as HTMLElement[]),
  );
}

/** Batches listed on the data page (the chart shows every one). */
const RECENT_BATCHES = 100;

async function dataPage() {
  nav('data');
  const d = await api('/api/data');
  const charts = el('div', { 'data-testid': 'data-charts' });
  const driftCharts = el('div', { 'data-testid': 'drift-charts' });
  show(
    el('h1', {}, 'Data'),
    el('h2', {}, 'Batches'),
    d.batches.length > RECENT_BATCHES
      ? el(
          'p',
          { class: 'muted' },
          `The latest ${RECENT_BATCHES} of ${d.batches.length} batches, newest first; the chart below shows them all.`,
        )
      : null,
    table(
      ['batch', 'audited', 'rows', 'quarantined', 'review sample', 'reviewed: poison', 'reviewed: clear'],
      (d.batches as Json[])
        .slice(-RECENT_BATCHES)
        .reverse()
        .map((b: Json) => [
          el('a', { href: `#/review/${b.runId}` }, b.batch ?? b.runId),
          when(b.createdAt),
          String(b.incoming),
          `${b.quarantined} (${pct(b.incoming ? b.quarantined / b.incoming : 0)})`,
          `${b.review} (${pct(b.incoming ? b.review / b.incoming : 0)})`,
          String(b.confirmed),
          String(b.cleared),
        ]),
    ),
    charts,
    el('h2', {}, 'Sources and labelers flagged across batches'),
    [...d.sources, ...d.labelers].length
      ? table(
          ['who', 'rows', 'quarantined', 'batches with a quarantined row'],
          [
            ...d.sources.map((x: Json) => [
              `source ${x.who}`,
              String(x.rows),
              `${x.quarantined} (${pct(x.rows ? x.quarantined / x.rows : 0)})`,
              `${x.flagged} of ${x.batches}`,
            ]),
            ...d.labelers.map((x: Json) => [
              `labeler ${x.who}`,
              String(x.rows),
              `${x.quarantined} (${pct(x.rows ? x.quarantined / x.rows : 0)})`,
              `${x.flagged} of ${x.batches}`,
            ]),
          ],
        )
      : el(
          'p',
          { class: 'muted' },
          'No source or labeler column in the audited batches (audit with --source, --labeler).',
        ),
    el('h2', {}, 'Recurring triggers'),
    table(
      ['trigger', 'batches', 'rows'],
      d.triggers.map((t: Json) => [
        t.pattern,
        `${t.batches.length}: ${t.batches.slice(0, 6).join(', ')}`,
        String(t.rows),
      ]),
    ),
    el('h2', {}, 'Drift by window against the trusted baseline'),
    driftCharts,
    driftWindowTable(d.driftWindows as Json[]),
    d.drift.length
      ? table(
          ['batch', 'severity', 'drift finding'],
          d.drift.map((x: Json) => [x.batch ?? x.runId, x.severity, x.message]),
        )
      : el('p', { class: 'muted' }, 'No drift finding in the audited batches.'),
  );
  const c = await api('/api/data/charts');
  charts.replaceChildren(
    ...([
      svgBox(c.svg.batches, 'chart-batches'),
      svgBox(c.svg.sources, 'chart-sources'),
      svgBox(c.svg.labelers, 'chart-labelers'),
    ].filter(Boolean) as HTMLElement[]),
  );
  driftCharts.replaceChildren(
    ...([svgBox(c.svg.driftLabels, 'chart-drift-labels'), svgBox(c.svg.driftPsi, 'chart-drift-psi')].filter(
      Boolean,
    ) as HTMLElement[]),
  );
}

/** The latest windows of the audited batches: each label's share against its trusted share, and the largest feature shift. */
function driftWindowTable(windows: Json[]): HTMLElement {
  if (!windows.length)
    return el(
      'p',
      { class: 'muted', 'data-testid': 'drift-windows' },
      'No batch was audited by time window (audit with --time to compare each window with the trusted baseline).',
    );
  const recent = windows.slice(-40);
  const moved = (w: Json) =>
    Object.entries(w.labelRates as Record<string, number | null>).some(
      ([c, v]) => v !== null && w.trustedRates[c] !== null && Math.abs(v - w.trustedRates[c]) >= 0.05,
    ) || (w.maxPsi ?? 0) >= 0.25;
  const t = table(
    ['batch', 'window', 'from', 'label share (trusted)', 'largest feature shift'],
    recent.map((w) => [
      w.batch ?? w.runId,
      String(w.window),
      w.start ? when(w.start) : '-',
      Object.entries(w.labelRates as Record<string, number | null>)
        .map(([c, v]) => `${c}: ${pct(v)} (${pct(w.trustedRates[c])})`)
        .join(' · '),
      w.maxPsi === null ? '-' : `PSI ${fix(w.maxPsi, 2)} ${w.psiFeature ?? ''}`,
    ]),
    (i) => (moved(recent[i]) ? 'flag' : ''),
  );
  t.setAttribute('data-testid', 'drift-windows');
  return el(
    'div',
    {},
    el(
      'p',
      { class: 'muted' },
      `${windows.length} windows in ${plural(new Set(windows.map((w) => w.runId)).size, 'batch', 'batches')}; the last ${recent.length} below, shaded where a label's share is 5 points or more from the trusted share or a feature's PSI reaches 0.25.`,
    ),
    t,
  );
}

async function reviewIndex() {
  nav('review');
  const r = await api('/api/runs?kind=audit&limit=200');
  show(
    el('h1', {}, 'Review queue'),
    el('p', { class: 'muted' }, 'Pick an audited batch.'),
    table(
      ['batch', 'audited', 'quarantined', 'review sample'],
      r.runs.map((x: Json) => [
        el('a', { href: `#/review/${x.id}` }, x.batch ?? x.title),
        when(x.createdAt),
        String(x.summary.quarantined ?? '-'),
        String(x.summary.review ?? '-'),
      ]),
    ),
  );
}

/** The row's text with each trigger token highlighted (as text nodes and <mark> elements, never markup). */
function highlighted(text: string, triggers: string[]): HTMLElement {
  const box = el('div', { class: 'rowtext', 'data-testid': 'row-text' });
  const words = triggers.filter(Boolean).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!words.length) {
    box.textContent = text;
    return box;
  }
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(${words.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  let last = 0;
  for (const m of text.matchAll(re)) {
    box.append(text.slice(last, m.index));
    box.append(el('mark', {}, m[0]));
    last = (m.index ?? 0) + m[0].length;
  }
  box.append(text.slice(last));
  return box;
}

async function reviewPage(runId: string) {
  nav('review');
  let q = await api(`/api/runs/${runId}/queue`);
  let rows = q.rows as Json[];
  let i = Math.max(
    0,
    rows.findIndex((r) => !r.verdict),
  );
  const canReview = me && (me.role === 'reviewer' || me.role === 'admin');
  const status = el('p', { class: 'muted', 'data-testid': 'status' });
  const card = el('div', { class: 'card', 'data-testid': 'review-card' });
  const prec = el('div', { class: 'card', 'data-testid': 'precision' });
  const textCol = q.roles.text as string | undefined;
  const labelCol = q.roles.label as string | undefined;
  const classes = [
    ...new Set(rows.map((r) => r.fields?.[labelCol ?? ''] ?? r.label).filter(Boolean)),
  ] as string[];

  function renderPrecision() {
    const p = q.precision;
    prec.replaceChildren(
      el('strong', {}, 'Estimated precision of the quarantine: '),
      el(
        'span',
        { 'data-testid': 'precision-value' },
        p.precision === null ? 'no quarantined row reviewed yet' : pct(p.precision),
      ),
      p.interval ? ` (95% interval ${pct(p.interval.low)} to ${pct(p.interval.high)})` : '',
      el('br'),
      el(
        'span',
        { class: 'muted' },
        `${p.reviewed} of ${p.queue} sample rows reviewed; priority stratum ${p.strata.priority.k}/${p.strata.priority.n} confirmed, control stratum ${p.strata.control.k}/${p.strata.control.n}; poison found among accepted control rows: ${p.missedInAccepted ? pct(p.missedInAccepted.estimate) : '-'}`,
      ),
    );
  }

  function render() {
    const r = rows[i];
    if (!r) {
      card.replaceChildren(el('p', {}, 'The review sample is empty.'));
      return;
    }
    const text = (textCol && r.fields[textCol]) || Object.values(r.fields).join(' · ');
    const other = Object.entries(r.fields as Record<string, string>).filter(([k]) => k !== textCol);
    card.replaceChildren(
      el(
        'div',
        { class: 'muted' },
        `Row ${i + 1} of ${rows.length} · id ${r.rowId} · ${r.review} sample · audit: ${r.decision} · score ${fix(r.score, 2)}`,
      ),
      highlighted(text, q.triggers),
      el('p', {}, ...other.map(([k, v]) => el('span', { class: 'pill' }, `${k}: ${v}`))),
      el('h2', {}, 'Reasons'),
      r.reasons.length
        ? el('ul', {}, ...r.reasons.map((x: string) => el('li', {}, x)))
        : el('p', { class: 'muted' }, 'none (a control row)'),
      neighboursOf(r),
      el(
        'p',
        { 'data-testid': 'verdict' },
        r.verdict
          ? el(
              'span',
              { class: `pill ${r.verdict.decision}` },
              `${r.verdict.decision === 'confirm' ? 'confirmed poison' : 'cleared'}${r.verdict.correctedLabel ? ` (label should be ${r.verdict.correctedLabel})` : ''} by ${r.verdict.reviewer} at ${when(r.verdict.at)}`,
            )
          : el('span', { class: 'muted' }, 'not reviewed yet'),
      ),
      el(
        'p',
        { class: 'keys' },
        ...(canReview
          ? [
              el('kbd', {}, 'p'),
              ' confirm poison ',
              el('kbd', {}, 'f'),
              ' confirm and flip the label ',
              el('kbd', {}, 'c'),
              ' clear ',
            ]
          : ['Read only (viewer token). ']),
        el('kbd', {}, 'j'),
        ' next ',
        el('kbd', {}, 'k'),
        ' previous',
      ),
    );
  }

  /** The nearest trusted rows the audit found, those whose label contradicts this row's marked. */
  function neighboursOf(r: Json): HTMLElement {
    const list = (r.neighbours ?? []) as Json[];
    const box = el('div', { 'data-testid': 'neighbours' });
    if (!list.length) {
      box.append(el('p', { class: 'muted' }, 'No trusted neighbours recorded for this row.'));
      return box;
    }
    const own = String(r.fields?.[labelCol ?? ''] ?? r.label ?? '');
    const against = list.filter((n) => n.label !== own).length;
    box.append(
      el(
        'h2',
        {},
        `Nearest trusted rows: ${against} of ${list.length} carry another label than this row's "${own}"`,
      ),
      table(
        ['label', 'trusted row', 'distance', 'id'],
        list.map((n) => [
          el('span', { class: n.label !== own ? 'pill contradicts' : 'pill' }, n.label),
          n.text,
          fix(n.distance, 2),
          n.id,
        ]),
        (k) => (list[k].label !== own ? 'contradicts' : ''),
      ),
    );
    return box;
  }

  async function decide(decision: 'confirm' | 'clear', flip = false) {
    const r = rows[i];
    if (!r || !canReview) return;
    const current = r.fields?.[labelCol ?? ''] ?? r.label;
    const correctedLabel = flip && classes.length === 2 ? classes.find((c) => c !== current) : undefined;
    status.textContent = 'saving...';
    try {
      await api(`/api/runs/${runId}/reviews`, {
        method: 'POST',
        body: JSON.stringify({ rowId: r.rowId, decision, ...(correctedLabel ? { correctedLabel } : {}) }),
      });
      q = await api(`/api/runs/${runId}/queue`);
      rows = q.rows;
      status.textContent = `recorded: row ${r.rowId} ${decision === 'confirm' ? 'confirmed as poison' : 'cleared'}`;
      i = Math.min(rows.length - 1, i + 1);
      render();
      renderPrecision();
    } catch (err) {
      status.textContent = `not recorded: ${(err as Error).message}`;
    }
  }

  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'j' || e.key === 'ArrowRight') {
      i = Math.min(rows.length - 1, i + 1);
      render();
    } else if (e.key === 'k' || e.key === 'ArrowLeft') {
      i = Math.max(0, i - 1);
      render();
    } else if (e.key === 'p') void decide('confirm');
    else if (e.key === 'f') void decide('confirm', true);
    else if (e.key === 'c') void decide('clear');
  };
  document.addEventListener('keydown', onKey);
  cleanup = () => document.removeEventListener('keydown', onKey);
  show(
    el('h1', {}, `Review: ${q.run.batch ?? q.run.title}`),
    el(
      'p',
      { class: 'muted' },
      `Trigger candidates highlighted: ${q.triggers.length ? q.triggers.join(', ') : 'none'}`,
    ),
    prec,
    card,
    status,
  );
  render();
  renderPrecision();
}

async function route() {
  cleanup?.();
  cleanup = null;
  const hash = location.hash || '#/runs';
  const [, page, arg] = hash.split('/');
  if (!sessionStorage.getItem(TOKEN_KEY) || page === 'login') return loginPage();
  try {
    if (!me) me = await api('/api/me');
    const a = arg ? decodeURIComponent(arg) : '';
    if (page === 'run' && a) await runPage(a);
    else if (page === 'models') await modelsPage();
    else if (page === 'model' && a) await modelPage(a);
    else if (page === 'data') await dataPage();
    else if (page === 'review' && a) await reviewPage(a);
    else if (page === 'review') await reviewIndex();
    else await runsPage();
    document.body.dataset.ready = hash;
  } catch (err) {
    if ((err as Error).message !== 'signed out')
      show(el('p', { class: 'err' }, `Could not load this page: ${(err as Error).message}`));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
