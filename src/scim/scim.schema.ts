/**
 * SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) as modelgate speaks it at /api/v1/scim/v2
 * (docs/sso.md, "SCIM"). Request schemas are lenient where identity providers differ (unknown attributes
 * are ignored, booleans may come as "True"/"False" strings as Entra ID sends them); answers are exact.
 */
import { z } from 'zod'
import { emailText, idText, lineText, text } from '../schema/common.js'

/** Where the SCIM endpoints live (Open WebUI's path). */
export const SCIM_PREFIX = '/api/v1/scim/v2'

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const SCIM_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
export const SCIM_LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
export const SCIM_PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
export const SCIM_SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'
export const SCIM_RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType'
export const SCIM_SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema'

/** The most resources one list page holds (ServiceProviderConfig `filter.maxResults`). */
export const SCIM_MAX_RESULTS = 200

/** RFC 7644 §3.12 scimType values this server answers. */
export const SCIM_TYPES = ['invalidFilter', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'tooMany'] as const
export type ScimType = (typeof SCIM_TYPES)[number]

export const ScimErrorSchema = z
  .object({
    schemas: z.tuple([z.literal(SCIM_ERROR_SCHEMA)]),
    status: z.string().describe('The HTTP status, as a string (RFC 7644 §3.12).'),
    scimType: z.enum(SCIM_TYPES).optional(),
    detail: z.string(),
  })
  .describe('A SCIM error (urn:ietf:params:scim:api:messages:2.0:Error).')
export type ScimErrorBody = z.infer<typeof ScimErrorSchema>

/** A boolean as identity providers send it: true/false, or Entra ID's "True"/"False" strings. */
const scimBoolean = z
  .union([z.boolean(), z.enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE'])])
  .transform((value) => (typeof value === 'boolean' ? value : value.toLowerCase() === 'true'))

const externalId = text().trim().min(1).max(512).nullable().describe("The identity provider's own id of the resource; kept as given.")

const NameSchema = z
  .object({
    formatted: text().max(512).optional(),
    givenName: text().max(255).optional(),
    familyName: text().max(255).optional(),
  })
  .describe('Only formatted, givenName and familyName are read.')

/** POST /Users and PUT /Users/{id}; also what a PATCH must leave behind. */
export const ScimUserInputSchema = z
  .object({
    schemas: z.array(z.string()).optional(),
    userName: emailText.describe("The account's email address (its sign-in name); unique, case-insensitive."),
    externalId: externalId.optional(),
    displayName: text().max(512).optional(),
    name: NameSchema.optional(),
    emails: z
      .array(z.object({ value: text().max(320), primary: scimBoolean.optional(), type: text().max(64).optional() }))
      .max(100)
      .optional()
      .describe('Accepted and ignored: the email is userName.'),
    active: scimBoolean.optional().describe('false: the account is deactivated (role pending; its sessions and API key end at once).'),
    password: text().max(256).optional().describe('Optional: a password for password sign-in (PASSWORD_MIN_LENGTH applies); none by default.'),
  })
  .describe('A SCIM User; attributes not listed here are ignored.')
export type ScimUserInput = z.output<typeof ScimUserInputSchema>

const MemberInputSchema = z.object({ value: idText(256) }).describe('A member: the user id in value (display, $ref and type are ignored).')

/** POST /Groups and PUT /Groups/{id}; also what a PATCH must leave behind. */
export const ScimGroupInputSchema = z
  .object({
    schemas: z.array(z.string()).optional(),
    displayName: lineText(255),
    externalId: externalId.optional(),
    members: z.array(MemberInputSchema).max(10_000).optional(),
  })
  .describe('A SCIM Group; attributes not listed here are ignored.')
export type ScimGroupInput = z.output<typeof ScimGroupInputSchema>

/** PATCH: RFC 7644 §3.5.2 operations, in the forms Entra ID and Okta send (op in any case, value-only replace). */
export const ScimPatchSchema = z
  .object({
    schemas: z
      .array(z.string())
      .refine((schemas) => schemas.includes(SCIM_PATCH_SCHEMA), `must contain "${SCIM_PATCH_SCHEMA}"`)
      .optional(),
    Operations: z
      .array(
        z.object({
          op: z
            .string()
            .refine((op) => ['add', 'remove', 'replace'].includes(op.toLowerCase()), 'must be add, remove or replace')
            .transform((op) => op.toLowerCase() as 'add' | 'remove' | 'replace'),
          path: text().max(1024).optional(),
          value: z.unknown().optional(),
        }),
      )
      .min(1, 'must hold at least one operation')
      .max(1000),
  })
  .describe('A SCIM PatchOp request.')
export type ScimPatchInput = z.output<typeof ScimPatchSchema>

export const ScimIdParamsSchema = z.object({ id: idText(256) })

export const ScimListQuerySchema = z.object({
  filter: text().max(2000).optional().describe('userName eq "…", externalId eq "…", displayName eq "…", id eq "…" (joined with and).'),
  startIndex: z.coerce.number().int().catch(1).optional().describe('1-based index of the first result (values below 1 count as 1).'),
  count: z.coerce.number().int().catch(SCIM_MAX_RESULTS).optional().describe(`Page size (0 to ${SCIM_MAX_RESULTS}; larger asks get ${SCIM_MAX_RESULTS}).`),
  attributes: text().max(2000).optional().describe('Accepted; every attribute is returned.'),
  excludedAttributes: text().max(2000).optional().describe('members (Groups) and groups (Users) are left out when named.'),
})
export type ScimListQuery = z.output<typeof ScimListQuerySchema>

const MetaSchema = z.object({
  resourceType: z.enum(['User', 'Group']),
  created: z.string().describe('ISO 8601.'),
  lastModified: z.string().describe('ISO 8601.'),
  location: z.string().describe("The resource's absolute URL."),
})

export const ScimUserSchema = z.object({
  schemas: z.tuple([z.literal(SCIM_USER_SCHEMA)]),
  id: z.string(),
  externalId: z.string().optional(),
  userName: z.string(),
  name: z.object({ formatted: z.string() }),
  displayName: z.string(),
  emails: z.array(z.object({ value: z.string(), type: z.literal('work'), primary: z.literal(true) })),
  active: z.boolean(),
  groups: z.array(z.object({ value: z.string(), display: z.string(), type: z.literal('direct') })).optional(),
  meta: MetaSchema,
})
export type ScimUser = z.infer<typeof ScimUserSchema>

export const ScimGroupSchema = z.object({
  schemas: z.tuple([z.literal(SCIM_GROUP_SCHEMA)]),
  id: z.string(),
  externalId: z.string().optional(),
  displayName: z.string(),
  members: z.array(z.object({ value: z.string(), display: z.string(), type: z.literal('User') })).optional(),
  meta: MetaSchema,
})
export type ScimGroup = z.infer<typeof ScimGroupSchema>

const listOf = <T extends z.ZodType>(resource: T) =>
  z.object({
    schemas: z.tuple([z.literal(SCIM_LIST_SCHEMA)]),
    totalResults: z.number().int(),
    itemsPerPage: z.number().int(),
    startIndex: z.number().int(),
    Resources: z.array(resource),
  })
export const ScimUserListSchema = listOf(ScimUserSchema)
export const ScimGroupListSchema = listOf(ScimGroupSchema)
export interface ScimList<T> {
  schemas: [typeof SCIM_LIST_SCHEMA]
  totalResults: number
  itemsPerPage: number
  startIndex: number
  Resources: T[]
}

const supported = z.object({ supported: z.boolean() })
export const ServiceProviderConfigSchema = z.object({
  schemas: z.tuple([z.literal(SCIM_SPC_SCHEMA)]),
  documentationUri: z.string(),
  patch: supported,
  bulk: z.object({ supported: z.boolean(), maxOperations: z.number().int(), maxPayloadSize: z.number().int() }),
  filter: z.object({ supported: z.boolean(), maxResults: z.number().int() }),
  changePassword: supported,
  sort: supported,
  etag: supported,
  authenticationSchemes: z.array(z.object({ type: z.string(), name: z.string(), description: z.string(), primary: z.boolean() })),
  meta: z.object({ resourceType: z.literal('ServiceProviderConfig'), location: z.string() }),
})

export const ResourceTypeSchema = z.object({
  schemas: z.tuple([z.literal(SCIM_RESOURCE_TYPE_SCHEMA)]),
  id: z.string(),
  name: z.string(),
  endpoint: z.string(),
  description: z.string(),
  schema: z.string(),
  meta: z.object({ resourceType: z.literal('ResourceType'), location: z.string() }),
})

/** An attribute definition (RFC 7643 §7), one level of sub-attributes. */
const attributeFields = {
  name: z.string(),
  type: z.enum(['string', 'boolean', 'complex', 'reference', 'dateTime']),
  multiValued: z.boolean(),
  description: z.string(),
  required: z.boolean(),
  caseExact: z.boolean(),
  mutability: z.enum(['readOnly', 'readWrite', 'immutable', 'writeOnly']),
  returned: z.enum(['always', 'never', 'default', 'request']),
  uniqueness: z.enum(['none', 'server', 'global']),
}
export const AttributeSchema = z.object({ ...attributeFields, subAttributes: z.array(z.object(attributeFields)).optional() })
export type ScimAttribute = z.infer<typeof AttributeSchema>

export const SchemaResourceSchema = z.object({
  schemas: z.tuple([z.literal(SCIM_SCHEMA_SCHEMA)]),
  id: z.string(),
  name: z.string(),
  description: z.string(),
  attributes: z.array(AttributeSchema),
  meta: z.object({ resourceType: z.literal('Schema'), location: z.string() }),
})

export const ResourceTypeListSchema = listOf(ResourceTypeSchema)
export const SchemaListSchema = listOf(SchemaResourceSchema)
