/** Plain-words descriptions of how a pickle uses a name, for finding messages. */
import { type GlobalUse, USE, USE_NAMES } from '../vm.js';

export function usesOf(g: GlobalUse): string[] {
  const out: string[] = [];
  for (const [bit, name] of USE_NAMES) if (g.uses & bit) out.push(name);
  return out;
}

export function howUsed(g: GlobalUse): string {
  const u = g.uses;
  const parts: string[] = [];
  if (u & USE.REDUCE) parts.push('called (REDUCE)');
  if (u & USE.INST) parts.push('instantiated (INST)');
  if (u & USE.OBJ) parts.push('instantiated (OBJ)');
  if (u & USE.NEWOBJ) parts.push('instantiated (NEWOBJ)');
  if (u & USE.NEWOBJ_EX) parts.push('instantiated (NEWOBJ_EX)');
  if (u & USE.BUILD) parts.push('given state (BUILD)');
  if (u & USE.MUTATE) parts.push('modified in place');
  if (parts.length === 0) return `imported (${g.importedBy}) but not called directly`;
  return `imported (${g.importedBy}) and ${parts.join(', ')}`;
}

export function rawSpelling(g: GlobalUse): string | undefined {
  const raw = `${g.rawModule}.${g.rawName}`;
  return raw !== g.global.qualified ? raw : undefined;
}
