/**
 * Read a detector's settings: its documented defaults, overridden by what the audit passes in
 * `ctx.settings` (either the detector's own object, or an object keyed by detector id).
 * Unknown keys are ignored; a value of the wrong type is a config error.
 */
import { configError } from '../../../core/errors.js';
import type { AuditContext } from '../types.js';

export function settingsFor<T extends Record<string, number | boolean | string>>(
  ctx: Pick<AuditContext, 'settings'>,
  id: string,
  defaults: T,
): T {
  const raw = ctx.settings ?? {};
  const own = raw[id];
  const src = (own && typeof own === 'object' ? own : raw) as Record<string, unknown>;
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as Array<keyof T & string>) {
    const v = src[key];
    if (v === undefined) continue;
    if (typeof v !== typeof defaults[key] || (typeof v === 'number' && !Number.isFinite(v))) {
      throw configError(`setting ${id}.${key} must be a ${typeof defaults[key]} (got ${JSON.stringify(v)})`);
    }
    out[key] = v as T[typeof key];
  }
  return out;
}
