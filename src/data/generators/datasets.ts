/**
 * Readers for the public datasets the generators build on (../shared/data, see its README for sources
 * and licences): SMS Spam Collection, UCI Adult, and the ONION SST-2 BadNets splits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../../core/errors.js';

export interface TextRow {
  text: string;
  label: string;
}

export type AdultRow = Record<string, string | number>;

export const ADULT_COLUMNS = [
  'age',
  'workclass',
  'fnlwgt',
  'education',
  'education_num',
  'marital_status',
  'occupation',
  'relationship',
  'race',
  'sex',
  'capital_gain',
  'capital_loss',
  'hours_per_week',
  'native_country',
  'income',
] as const;
export const ADULT_NUMERIC = new Set([
  'age',
  'fnlwgt',
  'education_num',
  'capital_gain',
  'capital_loss',
  'hours_per_week',
]);

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw inputError(
      `${path}: cannot read the dataset`,
      'set --data to the folder that holds sms-spam/, adult/ and sst2-badnets/',
    );
  }
}

/** SMS Spam Collection: `ham|spam TAB text` per line. */
export function loadSms(dataDir: string): TextRow[] {
  const rows: TextRow[] = [];
  for (const line of read(join(dataDir, 'sms-spam', 'SMSSpamCollection')).split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const label = line.slice(0, tab).trim();
    const text = line.slice(tab + 1).replace(/\r$/, '');
    if ((label === 'ham' || label === 'spam') && text.trim()) rows.push({ text, label });
  }
  return rows;
}

/** UCI Adult: comma-separated, no header, values padded with a space; rows with missing fields are kept ("?"). */
export function loadAdult(dataDir: string): AdultRow[] {
  const rows: AdultRow[] = [];
  for (const line of read(join(dataDir, 'adult', 'adult.data')).split('\n')) {
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length !== ADULT_COLUMNS.length) continue;
    const r: AdultRow = {};
    ADULT_COLUMNS.forEach((c, i) => {
      r[c] = ADULT_NUMERIC.has(c) ? Number(parts[i]) : parts[i];
    });
    rows.push(r);
  }
  return rows;
}

/** An SST-2 split of the ONION release: a header, then `sentence TAB label` (spacing and CRLF vary by file). */
export function loadSst2(dataDir: string, file: string): TextRow[] {
  const rows: TextRow[] = [];
  const lines = read(join(dataDir, 'sst2-badnets', file)).split('\n');
  for (const line of lines.slice(1)) {
    const tab = line.lastIndexOf('\t');
    if (tab < 0) continue;
    const text = line.slice(0, tab).trim();
    const label = line.slice(tab + 1).trim();
    if (text && (label === '0' || label === '1')) rows.push({ text, label });
  }
  return rows;
}
