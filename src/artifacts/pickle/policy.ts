/**
 * Allowlist policy: named profiles of exact names plus names the user adds (`--allow`, a policy file).
 * Policy file (JSON): `{"profiles": ["torch", "numpy"], "allow": ["mypkg.layers.Custom"]}`; without
 * `profiles` every built-in profile is active. Names are exact fully qualified names: no wildcards, no prefixes.
 */

import { createRequire } from 'node:module';
import type { z } from 'zod';
import { AntidoteError, configError, describeFsError, usageError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFileSync } from '../../core/paths.js';
import type { Policy } from './api.js';
import { PROFILE_NAMES, PROFILES } from './profiles/index.js';

/** A dotted Python name: `module.attr` with at least one dot, identifier characters only. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/**
 * The policy file's schema. zod is loaded (synchronously) only when a policy file is read: it is most of
 * the scan bundle and would otherwise be compiled and initialised on every `antidote scan`.
 */
function policyFileSchema() {
  const zod: typeof z = createRequire(import.meta.url)('zod').z;
  return zod
    .object({
      profiles: zod.array(zod.string()).optional(),
      allow: zod.array(zod.string()).optional(),
    })
    .strict();
}
let policyFile: ReturnType<typeof policyFileSchema> | undefined;

export type PolicyFileContent = z.infer<ReturnType<typeof policyFileSchema>>;

/** The policy with every built-in profile active. */
export function defaultPolicy(): Policy {
  return policyFrom(PROFILE_NAMES, []);
}

/** Build a policy from profile names and extra exact names (throws E_CONFIG on an unknown profile). */
export function policyFrom(profiles: readonly string[], allow: readonly string[]): Policy {
  const allowed = new Set<string>();
  for (const p of profiles) {
    const names = PROFILES[p];
    if (!names) throw configError(`unknown pickle profile "${p}"`, `use one of: ${PROFILE_NAMES.join(', ')}`);
    for (const n of names) allowed.add(n);
  }
  for (const n of allow) allowed.add(n);
  return { allowed, profiles: [...profiles] };
}

function checkName(name: string, where: string, bad: (msg: string, hint: string) => Error): void {
  if (NAME.test(name)) return;
  const hint = /[*?]/.test(name)
    ? 'allow exact fully qualified names, never wildcards or module prefixes'
    : 'write a fully qualified name such as mypkg.layers.Custom';
  throw bad(`${where}: "${name}" is not a fully qualified Python name`, hint);
}

/**
 * The active policy: the file's profiles (all when the file names none or there is no file) and allowed names,
 * plus `allow` (from --allow). Throws AntidoteError (exit 2) with one line when the file or a name is invalid.
 */
export function loadPolicy(file?: string, allow: readonly string[] = []): Policy {
  for (const n of allow) checkName(n, '--allow', usageError);
  if (!file) return policyFrom(PROFILE_NAMES, allow);
  let text: string;
  try {
    text = readRegularFileSync(file, LIMITS.files.maxPolicyBytes, '--policy').toString('utf8');
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw describeFsError(file, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw configError(`${file}: not valid JSON (${(err as Error).message})`, 'fix the policy file');
  }
  policyFile ??= policyFileSchema();
  const parsed = policyFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : 'top level';
    throw configError(
      `${file}: invalid policy at ${where}: ${issue.message}`,
      'expected {"profiles": [...], "allow": [...]}',
    );
  }
  const profiles = parsed.data.profiles ?? PROFILE_NAMES;
  for (const p of profiles)
    if (!PROFILES[p])
      throw configError(`${file}: unknown pickle profile "${p}"`, `use one of: ${PROFILE_NAMES.join(', ')}`);
  for (const n of parsed.data.allow ?? []) checkName(n, file, configError);
  return policyFrom(profiles, [...(parsed.data.allow ?? []), ...allow]);
}
