/**
 * Response serialization: each route's response schema (zod, the one definition of the contract) is
 * turned into JSON Schema once, at start, and compiled by fast-json-stringify, Fastify's own serializer.
 *
 * Why not zod at run time: encoding an answer through its zod schema cost ~45 µs of an ~1.2 ms model
 * update in the running server (profiled: zod's shared parse functions see hundreds of schemas there and
 * run far slower than in a microbenchmark); the compiled serializer writes the same JSON in a few µs.
 * It keeps what zod's encoding gave us: keys a schema does not declare are left out (fast-json-stringify
 * writes only declared keys unless the zod object is loose; `additionalProperties: false` is taken out,
 * see withoutClosedObjects), and a required key that is missing fails the answer. Under test, every
 * answer is also checked against its zod schema after serializing (response-schemas.ts
 * `checkResponses`), so the two cannot drift apart unnoticed.
 *
 * A schema JSON Schema cannot express (a transform, a custom type) keeps zod's serializer.
 */
import fastJsonStringify from 'fast-json-stringify'
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import type { FastifySerializerCompiler } from 'fastify/types/schema.js'
import { z, type ZodType } from 'zod'

/** No ids from the global registry (the OpenAPI components): every schema is inlined, no `$ref` to resolve. */
const NO_REGISTRY = z.registry<{ id?: string }>()

/**
 * Compiled on a route's first answer, not at start: compiling all ~660 serializers cost ~0.7 s per app
 * built (profiled), which every start and every test's app paid for routes it never answers.
 */
export const serializerCompiler: FastifySerializerCompiler<ZodType> = (route) => {
  let stringify: ((data: unknown) => string) | undefined
  return (data) => (stringify ??= compile(route))(data)
}

function compile(route: Parameters<FastifySerializerCompiler<ZodType>>[0]): (data: unknown) => string {
  const schema = zodSchemaOf(route.schema)
  if (schema) {
    try {
      const jsonSchema = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'throw', target: 'draft-7', metadata: NO_REGISTRY, cycles: 'throw' })
      return fastJsonStringify(withoutClosedObjects(jsonSchema) as Parameters<typeof fastJsonStringify>[0])
    } catch {
      // Not expressible in JSON Schema: serialized by zod, as before.
    }
  }
  return zodSerializerCompiler(route)
}

function zodSchemaOf(value: unknown): ZodType | undefined {
  if (value instanceof z.ZodType) return value
  const properties = (value as { properties?: unknown } | null)?.properties
  return properties instanceof z.ZodType ? properties : undefined
}

/**
 * The schema without `additionalProperties: false`. fast-json-stringify writes only the declared keys of
 * an object anyway; but it picks a union's branch (anyOf/oneOf, and `.nullable()` is one) by validating
 * the value against each, and a closed object then refuses a value with one undeclared key: the answer
 * failed (a 500) where zod stripped the key (review 2026-12-07, test/review.session-1207.test.ts).
 */
function withoutClosedObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutClosedObjects)
  if (typeof schema !== 'object' || schema === null) return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties' && value === false) continue
    out[key] = withoutClosedObjects(value)
  }
  return out
}
