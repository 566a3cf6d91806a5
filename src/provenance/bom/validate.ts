/** CycloneDX 1.6 JSON validation with @cyclonedx/cyclonedx-library (its bundled schema, ajv underneath). */
import { AntidoteError } from '../../core/errors.js';

/** Null when valid, else a short description of the first schema errors. */
export async function bomErrors(json: string): Promise<string | null> {
  const { Spec, Validation } = await import('@cyclonedx/cyclonedx-library');
  const validator = new Validation.JsonValidator(Spec.Version.v1dot6);
  const errors = await validator.validate(json);
  if (errors === null) return null;
  const list = Array.isArray(errors) ? errors : [errors];
  return list
    .slice(0, 3)
    .map((e) => {
      const o = e as { instancePath?: string; message?: string };
      return o && typeof o === 'object' && 'message' in o
        ? `${o.instancePath || '/'} ${o.message}`
        : JSON.stringify(e).slice(0, 200);
    })
    .join('; ');
}

export async function assertValidBom(json: string): Promise<void> {
  const err = await bomErrors(json);
  if (err !== null) {
    throw new AntidoteError('E_INTERNAL', `the BOM does not validate against CycloneDX 1.6: ${err}`, {
      hint: 'nothing was written; please report this',
    });
  }
}
