import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ChatRequestSchema, CompletionsRequestSchema, fieldwiseCheck } from './gateway.schema.js'

/** Values for the chat body's fields: valid ones, out-of-range ones, wrong types, absent. */
const value = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.double({ min: -5, max: 5, noNaN: true }),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('', 'user', ' x ', 'bench-preset', 'a\u0000b', 'id\u200b', 'x'.repeat(300)),
  fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }),
  fc.array(fc.record({ role: fc.constantFrom('user', '', 1), content: fc.string({ maxLength: 3 }) }, { requiredKeys: [] }), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('a', 'role'), fc.string({ maxLength: 2 }), { maxKeys: 2 }),
)
const keys = ['model', 'messages', 'stream', 'temperature', 'top_p', 'max_tokens', 'seed', 'stop', 'use_mmap', 'custom_params', 'extra', 'constructor']
const body = fc
  .dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 })
  .map((b) => ({ model: 'bench-preset', messages: [{ role: 'user', content: 'hi' }], prompt: 'p', ...b }))
  .map((b) => Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)))

describe('fieldwiseCheck', () => {
  for (const [name, schema] of [
    ['ChatRequestSchema', ChatRequestSchema],
    ['CompletionsRequestSchema', CompletionsRequestSchema],
  ] as const) {
    it(`passes exactly the bodies ${name} passes, with the same output (keys in the same order)`, () => {
      const check = fieldwiseCheck(schema)
      let passed = 0
      fc.assert(
        fc.property(fc.oneof(body, value), (data) => {
          const full = schema.safeParse(data)
          const fast = check(data)
          if (!full.success) expect(fast).toBeUndefined()
          else {
            // The fast check may only defer to the full schema, never disagree with it.
            passed++
            expect(fast).toBeDefined()
            expect(JSON.stringify(fast?.value)).toBe(JSON.stringify(full.data))
          }
        }),
        { numRuns: 3000 },
      )
      // Both sides are exercised: bodies that pass as well as bodies that fail.
      expect(passed).toBeGreaterThan(30)
    })
  }

  it('accepts a typical chat body and refuses the same body without messages', () => {
    const check = fieldwiseCheck(ChatRequestSchema)
    expect(check({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5, user: 'x' })?.value).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.5,
      user: 'x',
    })
    expect(check({ model: 'm' })).toBeUndefined()
    expect(check({ model: 'm', messages: [], temperature: 3 })).toBeUndefined()
    expect(check([{ model: 'm' }])).toBeUndefined()
  })

  it('refuses schemas it cannot split into fields', () => {
    expect(() => fieldwiseCheck(z.object({ a: z.string() }))).toThrow()
    expect(() => fieldwiseCheck(z.looseObject({ a: z.string() }).refine((v) => v.a !== 'b'))).toThrow()
  })
})
