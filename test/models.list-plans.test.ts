/**
 * The list's query plans on SQLite (docs/performance.md): each plan must be driven by the index it was
 * designed around, so that a page costs what the page costs. SQLite plans do not depend on statistics,
 * so they are stable enough to assert; PostgreSQL's depend on the data and are checked by the benchmark.
 */
import { CompiledQuery } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Principals } from '../src/access/model-grants.js'
import { ModelsRepo, type ListPlan } from '../src/models/models.repo.js'
import { createHarness, type Harness } from './support/harness.js'

const page = { orderBy: 'updated_at' as const, direction: 'desc' as const, offset: 0, limit: 30 }

describe('list query plans on SQLite', () => {
  let h: Harness
  let repo: ModelsRepo
  const user: Principals = { userId: 'u1', role: 'user', groupIds: ['g1'], bypass: false }

  beforeAll(async () => {
    h = await createHarness('sqlite')
    repo = new ModelsRepo(h.database.db)
  })
  afterAll(async () => h?.close())

  async function planOf(plan: ListPlan, who: Principals, filters: { tag?: string; query?: string } = {}): Promise<string> {
    const compiled = repo.listPageQuery({ who, ...filters }, plan, page).compile()
    const result = await h.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]))
    return result.rows.map((row) => row.detail).join('\n')
  }

  it('walks the presets sort index when there is no access filter (admin with bypass)', async () => {
    const plan = await planOf('all', { ...user, bypass: true })
    expect(plan).toContain('USING INDEX models_presets_updated_at_idx')
    expect(plan).not.toMatch(/SCAN models(?! USING)/)
    expect(plan).not.toContain('TEMP B-TREE')
  })

  it('dense plan: walks the sort index and probes grants by resource', async () => {
    const plan = await planOf('exists', user)
    expect(plan).toContain('USING INDEX models_presets_updated_at_idx')
    expect(plan).toMatch(/SEARCH model_grants USING COVERING INDEX \S+ \(model_id=\?/)
    expect(plan).not.toContain('TEMP B-TREE')
  })

  it('sparse plan: starts from the grants by principal and the owner index, then sorts the small set', async () => {
    const plan = await planOf('grantedIds', user)
    expect(plan).toContain('SEARCH model_grants USING COVERING INDEX model_grants_principal_idx')
    expect(plan).toContain('USING COVERING INDEX models_owner_idx (user_id=?)')
    expect(plan).toMatch(/SEARCH models USING INDEX \S+ \(id=\?\)/)
    expect(plan).not.toMatch(/SCAN models(?! USING)/)
  })

  it("a total with a tag starts from the tag's rows and probes models by primary key (not every preset in an index's order)", async () => {
    for (const plan of ['all', 'exists'] as const) {
      const compiled = repo.countQuery({ who: plan === 'all' ? { ...user, bypass: true } : user, tag: 'SQL ', query: 'x' }, plan).compile()
      const result = await h.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]))
      const detail = result.rows.map((row) => row.detail)
      expect(detail[0], plan).toMatch(/SEARCH tagged USING COVERING INDEX model_tags_tag_idx \(tag_key=\?\)/)
      expect(detail.join('\n'), plan).toMatch(/SEARCH models USING INDEX \S+ \(id=\?\)/)
      expect(detail.join('\n'), plan).not.toMatch(/SCAN models/)
    }
  })

  it('tag filter: probes the tag rows by model, never scanning JSON', async () => {
    const plan = await planOf('exists', user, { tag: 'sql' })
    expect(plan).toMatch(/SEARCH model_tags USING COVERING INDEX \S+ \(model_id=\? AND tag_key=\?\)/)
  })
})
