import { describe, expect, it } from 'vitest'
import { followBaseChain, type ChainLookup, type ChainRow } from './base-chain.js'

const row = (id: string, base: string | null, extra: Partial<ChainRow> = {}): ChainRow => ({
  id,
  user_id: 'owner',
  base_model_id: base,
  is_active: 1,
  ...extra,
})

/** A registry of `rows`, served ids `served`; `unreadable` ids fail the read check; raw bases usable per `raw`. */
function lookup(rows: ChainRow[], served: string[], options: { unreadable?: string[]; raw?: (via: ChainRow | null) => boolean } = {}): ChainLookup<ChainRow> {
  const byId = new Map(rows.map((r) => [r.id, r]))
  return {
    row: (id) => byId.get(id),
    readable: (r) => !(options.unreadable ?? []).includes(r.id),
    rawUsable: options.raw ?? (() => true),
    served: (id) => served.includes(id),
  }
}

describe('followBaseChain', () => {
  it('ends at the raw provider model, passing the presets from the start inward', () => {
    const end = followBaseChain('outer', lookup([row('outer', 'inner'), row('inner', 'gpt')], ['gpt']))
    expect(end).toEqual({ ok: true, endId: 'gpt', presets: [row('outer', 'inner'), row('inner', 'gpt')] })
  })

  it('ends at an override row, and at a provider id asked for directly', () => {
    expect(followBaseChain('p', lookup([row('p', 'gpt'), row('gpt', null)], ['gpt']))).toMatchObject({ ok: true, endId: 'gpt', presets: [{ id: 'p' }] })
    expect(followBaseChain('gpt', lookup([], ['gpt']))).toEqual({ ok: true, endId: 'gpt', presets: [] })
  })

  it('says why a chain is refused, naming the presets passed and the path', () => {
    expect(followBaseChain('a', lookup([row('a', 'b'), row('b', 'a')], []))).toMatchObject({ ok: false, reason: 'loop', path: ['a', 'b', 'a'] })
    expect(followBaseChain('a', lookup([row('a', 'b'), row('b', 'gpt')], ['gpt'], { unreadable: ['b'] }))).toMatchObject({
      ok: false,
      reason: 'unreadable',
      presets: [{ id: 'a' }],
    })
    expect(followBaseChain('a', lookup([row('a', 'b'), row('b', 'gpt', { is_active: 0 })], ['gpt']))).toMatchObject({ ok: false, reason: 'inactive' })
    expect(followBaseChain('a', lookup([row('a', 'gone')], ['gpt']))).toMatchObject({ ok: false, reason: 'not served' })
    expect(followBaseChain('o', lookup([row('o', null)], []))).toMatchObject({ ok: false, reason: 'not served', presets: [] })
    expect(followBaseChain('a', lookup([row('a', 'gpt')], ['gpt'], { raw: () => false }))).toMatchObject({ ok: false, reason: 'raw base refused' })
  })

  it('asks about the raw base with the hop that references it (null when asked for directly)', () => {
    const asked: (string | null)[] = []
    const raw = (via: ChainRow | null) => {
      asked.push(via?.id ?? null)
      return true
    }
    followBaseChain('a', lookup([row('a', 'b'), row('b', 'gpt')], ['gpt'], { raw }))
    followBaseChain('gpt', lookup([], ['gpt'], { raw }))
    followBaseChain('o', lookup([row('o', null)], ['o'], { raw }))
    expect(asked).toEqual(['b', null])
  })
})
