/** SCIM discovery (RFC 7644 §4): what this server supports, its resource types and their schemas. */
import type { z } from 'zod'
import {
  SCIM_GROUP_SCHEMA,
  SCIM_LIST_SCHEMA,
  SCIM_MAX_RESULTS,
  SCIM_RESOURCE_TYPE_SCHEMA,
  SCIM_SCHEMA_SCHEMA,
  SCIM_SPC_SCHEMA,
  SCIM_USER_SCHEMA,
  type ResourceTypeSchema,
  type ScimAttribute,
  type SchemaResourceSchema,
  type ServiceProviderConfigSchema,
} from './scim.schema.js'

export function serviceProviderConfig(base: string): z.infer<typeof ServiceProviderConfigSchema> {
  return {
    schemas: [SCIM_SPC_SCHEMA],
    documentationUri: 'docs/sso.md#scim',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      { type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'The SCIM_TOKEN of the server, as "Authorization: Bearer …".', primary: true },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  }
}

type ResourceType = z.infer<typeof ResourceTypeSchema>

export function resourceTypes(base: string): ResourceType[] {
  return [
    {
      schemas: [SCIM_RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'An account (userName is its email).',
      schema: SCIM_USER_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [SCIM_RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A group: model access is granted to groups.',
      schema: SCIM_GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ]
}

const attribute = (name: string, type: ScimAttribute['type'], description: string, extra: Partial<ScimAttribute> = {}): ScimAttribute => ({
  name,
  type,
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
})

type SchemaResource = z.infer<typeof SchemaResourceSchema>

export function schemas(base: string): SchemaResource[] {
  const externalId = attribute('externalId', 'string', "The identity provider's id of the resource; kept as given.", { caseExact: true, uniqueness: 'server' })
  return [
    {
      schemas: [SCIM_SCHEMA_SCHEMA],
      id: SCIM_USER_SCHEMA,
      name: 'User',
      description: 'User Account',
      attributes: [
        attribute('userName', 'string', "The account's email address, its sign-in name.", { required: true, uniqueness: 'server' }),
        externalId,
        attribute('displayName', 'string', "The account's name."),
        attribute('name', 'complex', 'The name; formatted, or givenName and familyName, set the account name when displayName is absent.', {
          subAttributes: [
            attribute('formatted', 'string', 'The full name.'),
            attribute('givenName', 'string', 'The given name.'),
            attribute('familyName', 'string', 'The family name.'),
          ],
        }),
        attribute('emails', 'complex', 'The email: the same as userName.', {
          multiValued: true,
          mutability: 'readOnly',
          subAttributes: [
            attribute('value', 'string', 'The address.'),
            attribute('type', 'string', 'Always work.'),
            attribute('primary', 'boolean', 'Always true.'),
          ],
        }),
        attribute('active', 'boolean', 'false deactivates the account: its sessions and API key end at once.'),
        attribute('password', 'string', 'Optional password for password sign-in.', { mutability: 'writeOnly', returned: 'never' }),
        attribute('groups', 'complex', 'The groups the account is in (change them through Groups).', {
          multiValued: true,
          mutability: 'readOnly',
          subAttributes: [
            attribute('value', 'string', 'The group id.', { mutability: 'readOnly' }),
            attribute('display', 'string', 'The group name.', { mutability: 'readOnly' }),
          ],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM_USER_SCHEMA}` },
    },
    {
      schemas: [SCIM_SCHEMA_SCHEMA],
      id: SCIM_GROUP_SCHEMA,
      name: 'Group',
      description: 'Group',
      attributes: [
        attribute('displayName', 'string', "The group's name.", { required: true, uniqueness: 'server' }),
        externalId,
        attribute('members', 'complex', 'The members: user ids in value.', {
          multiValued: true,
          subAttributes: [
            attribute('value', 'string', 'The user id.', { mutability: 'immutable' }),
            attribute('display', 'string', 'The user name.', { mutability: 'readOnly' }),
          ],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM_GROUP_SCHEMA}` },
    },
  ]
}

export const listOfAll = <T>(resources: T[]) => ({
  schemas: [SCIM_LIST_SCHEMA] as [typeof SCIM_LIST_SCHEMA],
  totalResults: resources.length,
  itemsPerPage: resources.length,
  startIndex: 1,
  Resources: resources,
})
