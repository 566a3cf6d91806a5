/**
 * What a derived model's folder changes besides its weights: the tokenizer and vocabulary, the chat
 * template, and the configuration. Files are compared by content; JSON is parsed to name what changed.
 * Only the files loaders read are looked at, by their usual names, and each is bounded in size.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Finding } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import { chatTemplateChanged, configChanged, tokenizerChanged } from '../rules.js';

const MAX_FILE = 64 << 20;
const TOKENIZER_FILES = [
  'tokenizer.json',
  'vocab.json',
  'vocab.txt',
  'merges.txt',
  'tokenizer.model',
  'spiece.model',
  'added_tokens.json',
  'special_tokens_map.json',
];
const CONFIG_IGNORED = new Set(['_name_or_path', 'transformers_version', 'torch_dtype', 'architectures']);

async function readSmall(path: string): Promise<Buffer | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > MAX_FILE) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

function parseJson(b: Buffer | undefined): Record<string, unknown> | undefined {
  if (!b) return undefined;
  try {
    const v = JSON.parse(b.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The vocabulary of a tokenizer.json / vocab.json / vocab.txt, when it can be read. */
function vocabOf(name: string, b: Buffer): Set<string> | undefined {
  if (name === 'vocab.txt') return new Set(b.toString('utf8').split('\n').filter(Boolean));
  const j = parseJson(b);
  if (!j) return undefined;
  if (name === 'vocab.json') return new Set(Object.keys(j));
  const model = j.model as { vocab?: unknown } | undefined;
  const v = model?.vocab;
  const keys = Array.isArray(v)
    ? v.map((x) => (Array.isArray(x) ? String(x[0]) : String(x)))
    : v && typeof v === 'object'
      ? Object.keys(v)
      : [];
  const added = Array.isArray(j.added_tokens)
    ? (j.added_tokens as Array<{ content?: unknown }>).map((t) => String(t.content))
    : [];
  return new Set([...keys, ...added]);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Chat templates of a folder, by where a loader finds them. */
async function chatTemplates(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const tc = parseJson(await readSmall(join(dir, 'tokenizer_config.json')));
  const ct = tc?.chat_template;
  if (typeof ct === 'string') out.set('tokenizer_config.json', ct);
  else if (Array.isArray(ct))
    for (const e of ct as Array<{ name?: unknown; template?: unknown }>)
      if (typeof e?.template === 'string') out.set(`tokenizer_config.json#${String(e.name)}`, e.template);
  const jinja = await readSmall(join(dir, 'chat_template.jinja'));
  if (jinja) out.set('chat_template.jinja', jinja.toString('utf8'));
  const cj = parseJson(await readSmall(join(dir, 'chat_template.json')));
  if (typeof cj?.chat_template === 'string') out.set('chat_template.json', cj.chat_template);
  return out;
}

function flatten(
  o: Record<string, unknown>,
  prefix = '',
  depth = 0,
  out = new Map<string, string>(),
): Map<string, string> {
  for (const [k, v] of Object.entries(o)) {
    if (!prefix && CONFIG_IGNORED.has(k)) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && depth < 3)
      flatten(v as Record<string, unknown>, key, depth + 1, out);
    else out.set(key, JSON.stringify(v));
  }
  return out;
}

export async function diffFolders(base: string, cand: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const tokChanges: Array<Record<string, unknown>> = [];
  for (const name of TOKENIZER_FILES) {
    const [a, b] = await Promise.all([readSmall(join(base, name)), readSmall(join(cand, name))]);
    if (!a && !b) continue;
    if (a && b && sha(a) === sha(b)) continue;
    const change: Record<string, unknown> = {
      file: name,
      change: !a ? 'added' : !b ? 'removed' : 'modified',
    };
    if (a && b) {
      const va = vocabOf(name, a);
      const vb = vocabOf(name, b);
      if (va && vb) {
        const added = [...vb].filter((t) => !va.has(t));
        const removed = [...va].filter((t) => !vb.has(t));
        Object.assign(change, {
          tokensAdded: added.length,
          tokensRemoved: removed.length,
          sampleAdded: added.slice(0, 10),
        });
      }
    }
    tokChanges.push(change);
  }
  if (tokChanges.length)
    findings.push(
      makeFinding(
        tokenizerChanged,
        `The tokenizer differs from the base's (${tokChanges.map((c) => `${c.file} ${c.change}${c.tokensAdded ? `, ${c.tokensAdded} tokens added` : ''}`).join('; ')}): review the change before trusting the model.`,
        { location: { file: String(tokChanges[0].file) }, evidence: { changes: tokChanges } },
      ),
    );
  const [ta, tb] = await Promise.all([chatTemplates(base), chatTemplates(cand)]);
  const keys = new Set([...ta.keys(), ...tb.keys()]);
  const changedTemplates = [...keys].filter((k) => ta.get(k) !== tb.get(k));
  if (changedTemplates.length)
    findings.push(
      makeFinding(
        chatTemplateChanged,
        `The chat template differs from the base's (${changedTemplates.join(', ')}): it wraps every conversation, so read the new one before use.`,
        { location: { file: changedTemplates[0].split('#')[0] }, evidence: { templates: changedTemplates } },
      ),
    );
  const [ca, cb] = await Promise.all([
    readSmall(join(base, 'config.json')),
    readSmall(join(cand, 'config.json')),
  ]);
  const ja = parseJson(ca);
  const jb = parseJson(cb);
  if (ja && jb) {
    const fa = flatten(ja);
    const fb = flatten(jb);
    const diffs = [...new Set([...fa.keys(), ...fb.keys()])].filter((k) => fa.get(k) !== fb.get(k)).sort();
    if (diffs.length)
      findings.push(
        makeFinding(
          configChanged,
          `config.json differs from the base's in ${diffs.length} value${diffs.length > 1 ? 's' : ''}: ${diffs
            .slice(0, 8)
            .map((k) => `${k} ${fa.get(k) ?? '(none)'} -> ${fb.get(k) ?? '(none)'}`)
            .join('; ')}.`,
          { location: { file: 'config.json' }, evidence: { keys: diffs.slice(0, 50) } },
        ),
      );
  }
  return findings;
}
