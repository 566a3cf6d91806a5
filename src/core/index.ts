export * from './atlas.js';
export * from './errors.js';
export * from './finding.js';
export * from './limits.js';
export * from './rule.js';
export * from './severity.js';
export * from './verdict.js';
