/**
 * API tokens: 256 random bits shown once, stored only as their SHA-256, each with a role. Roles are ordered
 * (viewer < reviewer < admin): viewers read, reviewers also record review decisions, admins also post runs
 * and pin baselines. The dashboard sends the token as a bearer header from its own script and the server
 * never reads a cookie, so a page on another site has no ambient credential to ride (no CSRF).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from './schema.js';

const RANK: Record<Role, number> = { viewer: 0, reviewer: 1, admin: 2 };

export function atLeast(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export function newToken(): string {
  return `adt_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The token of an `Authorization: Bearer ...` header, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer ([A-Za-z0-9_-]{10,200})$/.exec(header.trim());
  return m ? m[1] : undefined;
}
