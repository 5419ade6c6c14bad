/**
 * The schemas the OpenAPI document names (components/schemas), so that generated clients get named
 * types (`ModelResponse`, not an inline object per route). Listed here, in one place, instead of in each
 * feature's schema file: a name is given by registering the schema in zod's global registry with an id,
 * which fastify-type-provider-zod turns into a `$ref` wherever the schema is used. Request-side
 * versions get the suffix `Input` (`ModelFormInput`), the library's convention.
 */
import { z } from 'zod'
import { ApiKeyCreatedSchema, ApiKeyInfoSchema, SessionResponseSchema, SessionUserSchema } from '../auth/auth.schema.js'
import { ErrorCodeSchema, ErrorResponseSchema, OpenAiErrorResponseSchema, ValidationIssueSchema } from '../errors/error-response.js'
import { OpenAiModelSchema, RuntimeModelSchema } from '../gateway/gateway.schema.js'
import { GroupResponseSchema } from '../groups/groups.schema.js'
import * as models from '../models/models.schema.js'
import { ConnectionResponseSchema, ConnectionTestSchema, ProviderModelResponseSchema } from '../providers/connections.schema.js'
import { UserResponseSchema } from '../users/users.schema.js'

/** Component name → schema. Schemas moved between feature files keep their names here. */
const COMPONENTS: Record<string, z.ZodType> = {
  ModelForm: models.ModelFormSchema,
  ModelUpdate: models.ModelUpdateSchema,
  ModelResponse: models.ModelResponseSchema,
  ModelAccessResponse: models.ModelAccessResponseSchema,
  ModelWriteResponse: models.ModelWriteResponseSchema,
  Abilities: models.AbilitiesSchema,
  ModelList: models.ListResponseSchema,
  Grant: models.GrantResponseSchema,
  AccessUpdate: models.AccessUpdateSchema,
  ImportReport: models.ImportReportSchema,
  SyncPlan: models.SyncPlanSchema,
  ModelConflict: models.ModelConflictSchema,
  RuntimeModel: RuntimeModelSchema,
  OpenAiModel: OpenAiModelSchema,
  ErrorCode: ErrorCodeSchema,
  ErrorResponse: ErrorResponseSchema,
  OpenAiErrorResponse: OpenAiErrorResponseSchema,
  ValidationIssue: ValidationIssueSchema,
  User: UserResponseSchema,
  SessionUser: SessionUserSchema,
  Session: SessionResponseSchema,
  Group: GroupResponseSchema,
  Connection: ConnectionResponseSchema,
  ConnectionTest: ConnectionTestSchema,
  ProviderModel: ProviderModelResponseSchema,
  ApiKey: ApiKeyInfoSchema,
  ApiKeyCreated: ApiKeyCreatedSchema,
}

let registered = false

/** Gives the schemas above their names (once per process; buildApp calls it). */
export function registerOpenApiComponents(): void {
  if (registered) return
  registered = true
  for (const [id, schema] of Object.entries(COMPONENTS)) {
    if (z.globalRegistry.get(schema)?.id === id) continue
    // Keeps the schema's description (also kept in this registry).
    z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), id })
  }
}

/**
 * Drops the components no path uses (the library emits both the request and the answer version of
 * every named schema; most schemas are only one of them), and names a request-only schema without the
 * `Input` suffix (`ModelForm`, not `ModelFormInput`) when no answer schema has that name.
 */
export function tidyComponents<T extends object>(document: T): T {
  const schemas = (document as { components?: { schemas?: Record<string, unknown> } }).components?.schemas
  if (!schemas) return document
  const PREFIX = '#/components/schemas/'
  const refsIn = (value: unknown): string[] => {
    const found: string[] = []
    JSON.stringify(value, (key, inner: unknown) => {
      if (key === '$ref' && typeof inner === 'string' && inner.startsWith(PREFIX)) found.push(inner.slice(PREFIX.length))
      return inner
    })
    return found
  }
  const { components, ...rest } = document as { components: object }
  const used = new Set(refsIn(rest))
  const queue = [...used]
  while (queue.length > 0) {
    for (const ref of refsIn(schemas[queue.pop() as string])) {
      if (!used.has(ref)) {
        used.add(ref)
        queue.push(ref)
      }
    }
  }
  const renamed = new Map<string, string>()
  for (const name of used) {
    const plain = name.replace(/Input$/, '')
    if (plain !== name && !used.has(plain)) renamed.set(name, plain)
  }
  const kept = Object.fromEntries(
    Object.entries(schemas)
      .filter(([name]) => used.has(name))
      .map(([name, schema]) => [renamed.get(name) ?? name, schema]),
  )
  // Same key order as the document (the committed openapi.json stays diffable); references follow renames.
  const tidied = Object.fromEntries(Object.entries(document).map(([key, value]) => [key, key === 'components' ? { ...components, schemas: kept } : value]))
  return JSON.parse(JSON.stringify(tidied), (key, value: unknown) =>
    key === '$ref' && typeof value === 'string' && value.startsWith(PREFIX)
      ? PREFIX + (renamed.get(value.slice(PREFIX.length)) ?? value.slice(PREFIX.length))
      : value,
  ) as T
}
