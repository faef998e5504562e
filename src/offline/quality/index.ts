export * from './profile.js';
export * from './checks.js';
export * from './report.js';
