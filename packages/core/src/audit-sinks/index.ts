/** Audit sinks: JSON lines to a file or stream, and a bounded batching queue for async writers. */
export { BatchingAuditSink } from './batching';
export type { BatchingAuditSinkOptions } from './batching';
export { JsonLinesAuditSink, auditEventLine } from './json-lines';
export type { JsonLinesAuditSinkOptions } from './json-lines';
