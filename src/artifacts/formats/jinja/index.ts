/**
 * Chat templates as findings: every place a loader renders a Jinja template (GGUF `tokenizer.chat_template*`,
 * tokenizer_config.json `chat_template`, chat_template.jinja / chat_template.json, processor_config.json)
 * calls `templateFindings`, which parses and checks the template against the allowlist (./check.ts) and
 * turns each violation into a finding of its rule.
 */
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding } from '../../../core/rule.js';
import { checkTemplate } from './check.js';

export { checkTemplate, templateRules, type Violation } from './check.js';

/**
 * Findings for one template. `where` names it for a person (`GGUF key tokenizer.chat_template`,
 * `tokenizer_config.json chat_template "tool_use"`); `evidence` is merged into every finding's evidence.
 */
export function templateFindings(
  text: string,
  where: string,
  location: Location,
  evidence: Record<string, unknown> = {},
): Finding[] {
  return checkTemplate(text).map((v) =>
    makeFinding(
      v.rule.meta,
      `chat template (${where}) ${v.rule.message(v.construct)} at line ${v.line}; do not render it`,
      {
        location,
        evidence: { ...evidence, construct: v.construct, line: v.line },
      },
    ),
  );
}
