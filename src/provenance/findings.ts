/**
 * What verification can find. Every difference between what was recorded (a lock file, a signature)
 * and what is on disk is a blocking finding naming the file; nothing is silently accepted.
 */
import { ATLAS } from '../core/atlas.js';
import type { RuleMeta } from '../core/rule.js';

const rule = (id: string, title: string, rationale: string): RuleMeta => ({
  id,
  title,
  severity: 'high',
  atlas: ATLAS.supplyChainModel,
  rationale,
});

export const RULES = {
  changed: rule(
    'provenance/file-changed',
    'File content changed',
    'The bytes of a recorded file no longer match their digest: the artifact was modified after it was recorded or signed.',
  ),
  added: rule(
    'provenance/file-added',
    'File added',
    'A file that was not recorded is present. Loaders pick up extra files (configs, code, adapters) by name, so an unrecorded file can change behaviour.',
  ),
  removed: rule(
    'provenance/file-removed',
    'File removed or renamed',
    'A recorded file is missing (a rename shows as one removed and one added file).',
  ),
  retyped: rule(
    'provenance/file-retyped',
    'File type changed',
    'A recorded file became a symbolic link (or the reverse): a link can silently redirect a loader to other bytes.',
  ),
  symlinkTarget: rule(
    'provenance/symlink-retargeted',
    'Symbolic link changed target',
    'A recorded symbolic link now points somewhere else.',
  ),
  symlinkEscape: rule(
    'provenance/symlink-escape',
    'Symbolic link points outside the tree',
    'A link that leaves the artifact folder makes its content depend on files nobody recorded or signed (e.g. ../../.ssh, /etc).',
  ),
  special: rule(
    'provenance/special-file',
    'Special file in the tree',
    'Fifos, sockets and devices have no stable content to record; reading one can block or leak.',
  ),
  signature: rule(
    'provenance/signature-invalid',
    'Signature does not verify',
    'The signature does not verify with the given key or certificate chain, or its content is inconsistent: the model cannot be tied to its signer.',
  ),
} as const;
