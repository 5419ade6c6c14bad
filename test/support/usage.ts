import type { UsageRow } from '../../src/analytics/usage.repo.js'

/** A usage ledger row (migration 0013) with plain values, `overrides` applied: for tests that write rows directly. */
export function usageRow(overrides: Partial<UsageRow> = {}): UsageRow {
  return {
    created_at: 0,
    user_id: 'u',
    model_id: 'm',
    base_model_id: 'b',
    connection_id: 'c',
    endpoint: 'chat',
    stream: 0,
    status: 200,
    error: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    latency_ms: 0,
    first_chunk_ms: null,
    ...overrides,
  }
}
