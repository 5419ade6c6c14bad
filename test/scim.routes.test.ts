/**
 * SCIM 2.0 provisioning (issue #15, item 4; docs/sso.md, "SCIM") through HTTP on every dialect: a
 * scripted provisioning run as an identity provider drives it (create a user, add them to a group, rename
 * the group, deactivate the user), every answer checked against the shapes of RFC 7643/7644; filters and
 * paging; the SCIM error format; who is refused (no token, a wrong one, a user's session token or API
 * key, SCIM switched off); deactivation ending sessions and API keys at once; membership reaching model
 * access at once; uniqueness; the Entra ID and Okta PATCH forms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { preset, uniqueEmail } from './support/factories.js'
import { createHarness, PASSWORD, type Harness, type InjectOptions, type Reply } from './support/harness.js'

const SCIM = '/api/v1/scim/v2'
const TOKEN = 'scim-test-token-0123456789abcdef'
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const LIST_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error'
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SCIM_JSON = 'application/scim+json'

/** Any SCIM answer: a resource, a list or an error (the tests check which). */
interface ScimBody {
  schemas: string[]
  id: string
  externalId?: string
  userName: string
  displayName: string
  active: boolean
  emails: { value: string; type: string; primary: boolean }[]
  groups?: { value: string; display: string; type: string }[]
  members?: { value: string; display: string; type: string }[]
  meta: { resourceType: string; location: string; created: string; lastModified: string }
  totalResults: number
  itemsPerPage: number
  startIndex: number
  Resources: ScimBody[]
  status: string
  scimType?: string
  detail: string
  [key: string]: unknown
}
type ScimReply = Omit<Reply, 'json'> & { json: () => ScimBody }

/** The three values of a tuple-like array, or a failure. */
function three<T>(values: readonly T[]): [T, T, T] {
  const [a, b, c] = values
  if (a === undefined || b === undefined || c === undefined) throw new Error('expected three values')
  return [a, b, c]
}

describe.each(DIALECTS)('SCIM 2.0 on %s', (dialect) => {
  let h: Harness

  beforeAll(async () => {
    h = await createHarness(dialect, { ENABLE_SCIM: 'true', SCIM_TOKEN: TOKEN })
    await h.shareBase('base-llm')
  })
  afterAll(() => h.close())

  /** A request as the identity provider sends it: the SCIM token, bodies as application/scim+json. */
  const scim = (options: Omit<InjectOptions, 'url'> & { path: string }, token = TOKEN): Promise<ScimReply> =>
    h.request({
      method: options.method,
      url: `${SCIM}${options.path}`,
      headers: { authorization: `Bearer ${token}`, ...(options.payload !== undefined && { 'content-type': SCIM_JSON }), ...options.headers },
      ...(options.payload !== undefined && { payload: JSON.stringify(options.payload) }),
      ...(options.query && { query: options.query }),
    })

  function expectScimError(res: Reply | ScimReply, status: number, scimType?: string): ScimBody {
    expect(res.statusCode, res.body).toBe(status)
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/)
    const body = res.json() as ScimBody
    expect(body.schemas).toEqual([ERROR_URN])
    expect(body.status).toBe(String(status))
    expect(typeof body.detail).toBe('string')
    if (scimType) expect(body.scimType).toBe(scimType)
    return body
  }

  function expectUser(body: ScimBody, expected: { id?: string; userName: string; externalId?: string; active: boolean; displayName?: string }) {
    expect(body.schemas).toEqual([USER_URN])
    if (expected.id) expect(body.id).toBe(expected.id)
    expect(body.id).toEqual(expect.any(String))
    expect(body.userName).toBe(expected.userName)
    expect(body.emails).toEqual([{ value: expected.userName, type: 'work', primary: true }])
    if (expected.externalId !== undefined) expect(body.externalId).toBe(expected.externalId)
    expect(body.active).toBe(expected.active)
    if (expected.displayName !== undefined) expect(body.displayName).toBe(expected.displayName)
    expect(body.meta.resourceType).toBe('User')
    expect(body.meta.location).toBe(`http://localhost:80${SCIM}/Users/${body.id}`)
    expect(Date.parse(body.meta.created)).not.toBeNaN()
    expect(Date.parse(body.meta.lastModified)).not.toBeNaN()
  }

  function expectGroup(body: ScimBody, expected: { displayName: string; externalId?: string; members?: string[] }) {
    expect(body.schemas).toEqual([GROUP_URN])
    expect(body.id).toEqual(expect.any(String))
    expect(body.displayName).toBe(expected.displayName)
    if (expected.externalId !== undefined) expect(body.externalId).toBe(expected.externalId)
    if (expected.members) expect((body.members ?? []).map((m) => m.value).sort()).toEqual([...expected.members].sort())
    expect(body.meta.resourceType).toBe('Group')
    expect(body.meta.location).toBe(`http://localhost:80${SCIM}/Groups/${body.id}`)
  }

  function expectList(body: ScimBody, totalResults: number, startIndex = 1) {
    expect(body.schemas).toEqual([LIST_URN])
    expect(body.totalResults).toBe(totalResults)
    expect(body.startIndex).toBe(startIndex)
    expect(body.itemsPerPage).toBe(body.Resources.length)
  }

  async function createScimUser(extra: Record<string, unknown> = {}) {
    const email = uniqueEmail('scim')
    const res = await scim({
      method: 'POST',
      path: '/Users',
      payload: { schemas: [USER_URN], userName: email, active: true, displayName: 'Ada Lovelace', ...extra },
    })
    expect(res.statusCode, res.body).toBe(201)
    return { email, body: res.json() }
  }

  async function signIn(email: string): Promise<{ authorization: string }> {
    const res = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password: PASSWORD } })
    expect(res.statusCode, res.body).toBe(200)
    return { authorization: `Bearer ${res.json<{ token: string }>().token}` }
  }

  it('a scripted provisioning run: create a user, add them to a group, rename it, deactivate the user', async () => {
    // 1. The provider looks the user up first (Entra ID matches on userName), then creates them.
    const email = uniqueEmail('ada')
    const lookup = await scim({ method: 'GET', path: '/Users', query: { filter: `userName eq "${email}"` } })
    expect(lookup.statusCode).toBe(200)
    expect(lookup.headers['content-type']).toMatch(/^application\/scim\+json/)
    expectList(lookup.json(), 0)
    expect(lookup.json().Resources).toEqual([])

    const created = await scim({
      method: 'POST',
      path: '/Users',
      payload: {
        schemas: [USER_URN, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        externalId: 'ext-ada',
        userName: email.toUpperCase(),
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ primary: true, value: email, type: 'work' }],
        active: true,
        password: PASSWORD,
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Analytical Engines' },
      },
    })
    expect(created.statusCode, created.body).toBe(201)
    const user = created.json()
    expectUser(user, { userName: email, externalId: 'ext-ada', active: true, displayName: 'Ada Lovelace' })
    expect(created.headers['location']).toBe(user.meta.location)
    expect(user.groups).toEqual([])

    // The account exists for modelgate as a user, and signs in with the password the provider set.
    const session = await signIn(email)
    const me = await h.request({ method: 'GET', url: '/api/v1/auths/', headers: session })
    expect(me.json()).toMatchObject({ id: user.id, email, role: 'user', name: 'Ada Lovelace' })
    const key = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: session })
    expect(key.statusCode, key.body).toBe(200)
    const apiKey = { authorization: `Bearer ${key.json().api_key}` }

    // A model granted to the group the provider is about to create: invisible until the user is in it.
    const groupName = `Engineers ${uniqueEmail('g')}`
    const group = await scim({ method: 'POST', path: '/Groups', payload: { schemas: [GROUP_URN], displayName: groupName, externalId: 'ext-eng', members: [] } })
    expect(group.statusCode, group.body).toBe(201)
    const groupBody = group.json()
    expectGroup(groupBody, { displayName: groupName, externalId: 'ext-eng', members: [] })
    const modelId = `scim-model-${groupBody.id.slice(0, 8)}`
    const model = await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: h.admin.auth,
      payload: preset(modelId, { access_grants: [{ principal_type: 'group', principal_id: groupBody.id, permission: 'read' }] }),
    })
    expect(model.statusCode, model.body).toBe(200)
    const readModel = () => h.request({ method: 'GET', url: '/api/v1/models/model', query: { id: modelId }, headers: apiKey })
    expect((await readModel()).statusCode).not.toBe(200)

    // 2. Add the user to the group (Okta's form: add with path members).
    const added = await scim({
      method: 'PATCH',
      path: `/Groups/${groupBody.id}`,
      payload: { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id, display: email }] }] },
    })
    expect(added.statusCode, added.body).toBe(200)
    expectGroup(added.json(), { displayName: groupName, members: [user.id] })
    expect(added.json().members?.[0]).toEqual({ value: user.id, display: 'Ada Lovelace', type: 'User' })
    // Model access follows at once: the very next request reads the model.
    expect((await readModel()).statusCode).toBe(200)
    const withGroups = await scim({ method: 'GET', path: `/Users/${user.id}` })
    expect(withGroups.json().groups).toEqual([{ value: groupBody.id, display: groupName, type: 'direct' }])

    // 3. Rename the group (Okta's form: replace without a path).
    const renamed = await scim({
      method: 'PATCH',
      path: `/Groups/${groupBody.id}`,
      payload: { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { id: groupBody.id, displayName: `${groupName} (renamed)` } }] },
    })
    expect(renamed.statusCode, renamed.body).toBe(200)
    expectGroup(renamed.json(), { displayName: `${groupName} (renamed)`, externalId: 'ext-eng', members: [user.id] })
    const byName = await scim({ method: 'GET', path: '/Groups', query: { filter: `displayName eq "${groupName} (renamed)"` } })
    expectList(byName.json(), 1)
    expect(byName.json().Resources[0]?.id).toBe(groupBody.id)

    // 4. Deactivate the user (Entra ID's form: Replace active "False"): sessions and the API key end at once.
    const deactivated = await scim({
      method: 'PATCH',
      path: `/Users/${user.id}`,
      payload: { schemas: [PATCH_URN], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] },
    })
    expect(deactivated.statusCode, deactivated.body).toBe(200)
    expectUser(deactivated.json(), { id: user.id, userName: email, externalId: 'ext-ada', active: false })
    expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: session })).statusCode).toBe(401)
    expect((await readModel()).statusCode).toBe(401)
    // A new sign-in gets a pending account, which may use nothing.
    const again = await signIn(email)
    expect((await h.request({ method: 'GET', url: '/api/v1/models/model', query: { id: modelId }, headers: again })).statusCode).toBe(403)

    // Each change is audited, with the SCIM client (no account) as actor.
    const audit = await h.request({ method: 'GET', url: '/api/v1/audit', headers: h.admin.auth, query: { target_id: user.id } })
    expect(audit.statusCode, audit.body).toBe(200)
    const actions = (audit.json().items as { action: string; actor_id: string | null }[]).filter((e) => e.action.startsWith('scim.'))
    expect(actions.map((e) => e.action).sort()).toEqual(['scim.user_create', 'scim.user_update'])
    expect(actions.every((e) => e.actor_id === null)).toBe(true)
    const groupAudit = await h.request({ method: 'GET', url: '/api/v1/audit', headers: h.admin.auth, query: { target_id: groupBody.id } })
    expect((groupAudit.json().items as { action: string }[]).map((e) => e.action).filter((a) => a.startsWith('scim.'))).toEqual(
      expect.arrayContaining(['scim.group_create', 'scim.group_update']),
    )

    // Reactivation makes the account a user again (its old credentials stay revoked).
    const reactivated = await scim({
      method: 'PATCH',
      path: `/Users/${user.id}`,
      payload: { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: true } }] },
    })
    expect(reactivated.json().active).toBe(true)
    expect((await readModel()).statusCode).toBe(401)
  })

  it('discovery: ServiceProviderConfig, ResourceTypes, Schemas', async () => {
    const spc = await scim({ method: 'GET', path: '/ServiceProviderConfig' })
    expect(spc.statusCode).toBe(200)
    expect(spc.json()).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      bulk: { supported: false },
      authenticationSchemes: [{ type: 'oauthbearertoken' }],
    })
    const types = await scim({ method: 'GET', path: '/ResourceTypes' })
    expectList(types.json(), 2)
    expect(types.json().Resources.map((r) => [r['endpoint'], r['schema']])).toEqual([
      ['/Users', USER_URN],
      ['/Groups', GROUP_URN],
    ])
    const schemas = await scim({ method: 'GET', path: '/Schemas' })
    expectList(schemas.json(), 2)
    const userSchema = schemas.json().Resources.find((s) => s.id === USER_URN)
    expect((userSchema?.['attributes'] as { name: string }[]).find((a) => a.name === 'userName')).toMatchObject({ required: true, uniqueness: 'server' })
  })

  it('filters: userName (case-insensitive), externalId, displayName, and; paging with startIndex and count', async () => {
    const tag = uniqueEmail('f').split('@')[0] as string
    const made = []
    for (let i = 0; i < 3; i++) made.push(await createScimUser({ externalId: `${tag}-${i}`, displayName: `${tag} person` }))
    const [first, second, third] = three(made)
    const byUserName = await scim({ method: 'GET', path: '/Users', query: { filter: `userName eq "${first.email.toUpperCase()}"` } })
    expectList(byUserName.json(), 1)
    expect(byUserName.json().Resources[0]?.id).toBe(first.body.id)
    const byExternal = await scim({ method: 'GET', path: '/Users', query: { filter: `externalId eq "${tag}-1"` } })
    expect(byExternal.json().Resources.map((u) => u.id)).toEqual([second.body.id])
    const byBoth = await scim({ method: 'GET', path: '/Users', query: { filter: `externalId eq "${tag}-1" and userName eq "${first.email}"` } })
    expectList(byBoth.json(), 0)
    const whole = await scim({ method: 'GET', path: '/Users', query: { filter: `displayName eq "${tag} person"` } })
    expectList(whole.json(), 3)
    const order = whole.json().Resources.map((u) => u.id)
    expect([...order].sort()).toEqual(made.map((m) => m.body.id).sort())
    const byName = await scim({ method: 'GET', path: '/Users', query: { filter: `displayName eq "${tag} PERSON"`, startIndex: '2', count: '1' } })
    expectList(byName.json(), 3, 2)
    expect(byName.json().Resources.map((u) => u.id)).toEqual([order[1]])
    const countZero = await scim({ method: 'GET', path: '/Users', query: { filter: `displayName eq "${tag} person"`, count: '0' } })
    expectList(countZero.json(), 3)
    expect(countZero.json().Resources).toEqual([])
    const all = await scim({ method: 'GET', path: '/Users', query: { startIndex: '0' } })
    expect(all.json().startIndex).toBe(1)
    expect(all.json().totalResults).toBeGreaterThanOrEqual(4)

    // Group filters, including Entra ID's membership check.
    const group = await scim({ method: 'POST', path: '/Groups', payload: { displayName: `${tag} group`, members: [{ value: first.body.id }] } })
    const gid = group.json().id
    const member = await scim({
      method: 'GET',
      path: '/Groups',
      query: { filter: `id eq "${gid}" and members[value eq "${first.body.id}"]`, excludedAttributes: 'members' },
    })
    expectList(member.json(), 1)
    expect(member.json().Resources[0]).toBeDefined()
    expect(member.json().Resources[0]?.members).toBeUndefined()
    const notMember = await scim({ method: 'GET', path: '/Groups', query: { filter: `id eq "${gid}" and members[value eq "${third.body.id}"]` } })
    expectList(notMember.json(), 0)

    // Unsupported or malformed filters are refused, never ignored.
    expectScimError(await scim({ method: 'GET', path: '/Users', query: { filter: 'userName co "a"' } }), 400, 'invalidFilter')
    expectScimError(await scim({ method: 'GET', path: '/Users', query: { filter: 'title eq "x"' } }), 400, 'invalidFilter')
    expectScimError(await scim({ method: 'GET', path: '/Users', query: { filter: 'userName eq' } }), 400, 'invalidFilter')
    expectScimError(await scim({ method: 'GET', path: '/Users', query: { filter: 'userName eq "a" or userName eq "b"' } }), 400, 'invalidFilter')
  })

  it('one account per userName and externalId, one group per displayName: 409 uniqueness', async () => {
    const { email, body } = await createScimUser({ externalId: `uniq-${Date.now()}` })
    expectScimError(await scim({ method: 'POST', path: '/Users', payload: { userName: email, active: true } }), 409, 'uniqueness')
    expectScimError(await scim({ method: 'POST', path: '/Users', payload: { userName: email.toUpperCase() } }), 409, 'uniqueness')
    expectScimError(await scim({ method: 'POST', path: '/Users', payload: { userName: uniqueEmail('other'), externalId: body.externalId } }), 409, 'uniqueness')
    const same = await scim({ method: 'GET', path: '/Users', query: { filter: `userName eq "${email}"` } })
    expect(same.json().totalResults).toBe(1)
    // An account that signed up by itself is the same account too: SCIM creates no second one.
    expectScimError(await scim({ method: 'POST', path: '/Users', payload: { userName: h.admin.email } }), 409, 'uniqueness')
    const other = await createScimUser()
    expectScimError(await scim({ method: 'PUT', path: `/Users/${other.body.id}`, payload: { userName: email } }), 409, 'uniqueness')
    const name = `Unique ${uniqueEmail('n')}`
    expect((await scim({ method: 'POST', path: '/Groups', payload: { displayName: name } })).statusCode).toBe(201)
    expectScimError(await scim({ method: 'POST', path: '/Groups', payload: { displayName: name } }), 409, 'uniqueness')
  })

  it('the error format: bad tokens, session tokens and API keys 401, SCIM errors for bad bodies and unknown ids', async () => {
    expectScimError(await h.request({ method: 'GET', url: `${SCIM}/Users` }), 401)
    expectScimError(await scim({ method: 'GET', path: '/Users' }, 'wrong-token-0123456789abcdef'), 401)
    expectScimError(await scim({ method: 'GET', path: '/Users' }, `${TOKEN}x`), 401)
    // A user's session token or API key is no SCIM token, an admin's neither.
    expectScimError(await h.request({ method: 'GET', url: `${SCIM}/Users`, headers: h.admin.auth }), 401)
    const user = await h.createUser('user')
    const key = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: user.auth })
    expectScimError(await h.request({ method: 'GET', url: `${SCIM}/Users`, headers: { authorization: `Bearer ${key.json().api_key}` } }), 401)
    expectScimError(await h.request({ method: 'POST', url: `${SCIM}/Users`, headers: user.auth, payload: { userName: uniqueEmail('x') } }), 401)

    expectScimError(await scim({ method: 'GET', path: '/Users/no-such-id' }), 404)
    expectScimError(await scim({ method: 'GET', path: '/Nope' }), 404)
    expectScimError(await scim({ method: 'POST', path: '/Users', payload: { userName: 'not-an-email' } }), 400, 'invalidValue')
    expectScimError(await scim({ method: 'POST', path: '/Groups', payload: { displayName: 'x', members: [{ value: 'nobody' }] } }), 400, 'invalidValue')
    const malformed = await h.request({
      method: 'POST',
      url: `${SCIM}/Users`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': SCIM_JSON },
      payload: '{"userName": ',
    })
    expectScimError(malformed, 400, 'invalidSyntax')
    // Plain JSON is accepted as well.
    const json = await h.request({
      method: 'POST',
      url: `${SCIM}/Users`,
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { userName: uniqueEmail('json') },
    })
    expect(json.statusCode, json.body).toBe(201)
  })

  it('a malformed PATCH is 400 with a SCIM error body, and changes nothing', async () => {
    const { body } = await createScimUser()
    const path = `/Users/${body.id}`
    expectScimError(await scim({ method: 'PATCH', path, payload: { schemas: [PATCH_URN] } }), 400, 'invalidSyntax')
    expectScimError(
      await scim({ method: 'PATCH', path, payload: { schemas: [PATCH_URN], Operations: [{ op: 'frobnicate', path: 'active', value: false }] } }),
      400,
      'invalidSyntax',
    )
    expectScimError(
      await scim({ method: 'PATCH', path, payload: { schemas: ['urn:wrong'], Operations: [{ op: 'replace', path: 'active', value: false }] } }),
      400,
      'invalidSyntax',
    )
    expectScimError(await scim({ method: 'PATCH', path, payload: { Operations: [{ op: 'remove', path: 'emails[type eq' }] } }), 400)
    expectScimError(
      await scim({ method: 'PATCH', path, payload: { Operations: [{ op: 'replace', path: 'userName', value: 'not-an-email' }] } }),
      400,
      'invalidValue',
    )
    expectScimError(await scim({ method: 'PATCH', path, payload: { Operations: [{ op: 'replace', path: 'id', value: 'other' }] } }), 400, 'mutability')
    expectScimError(await scim({ method: 'PATCH', path: '/Users/unknown-id', payload: { Operations: [{ op: 'replace', path: 'active', value: false }] } }), 404)
    const after = await scim({ method: 'GET', path })
    expect(after.json()).toMatchObject({ active: true, userName: body.userName, displayName: body.displayName })
  })

  it('PATCH forms of Entra ID and Okta on users and groups; PUT keeps what it leaves out', async () => {
    const { body } = await createScimUser({ externalId: `forms-${Date.now()}` })
    const path = `/Users/${body.id}`
    const newEmail = uniqueEmail('renamed')
    const entra = await scim({
      method: 'PATCH',
      path,
      payload: {
        schemas: [PATCH_URN],
        Operations: [
          { op: 'Replace', path: 'userName', value: newEmail },
          { op: 'Replace', path: 'displayName', value: 'Augusta King' },
          { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Math' },
        ],
      },
    })
    expect(entra.statusCode, entra.body).toBe(200)
    expectUser(entra.json(), { id: body.id, userName: newEmail, displayName: 'Augusta King', active: true, externalId: body.externalId })
    const put = await scim({ method: 'PUT', path, payload: { schemas: [USER_URN], userName: newEmail, name: { formatted: 'Ada King' } } })
    expect(put.statusCode, put.body).toBe(200)
    expectUser(put.json(), { id: body.id, userName: newEmail, displayName: 'Ada King', active: true, externalId: body.externalId })

    const a = await createScimUser()
    const b = await createScimUser()
    const c = await createScimUser()
    const group = (
      await scim({
        method: 'POST',
        path: '/Groups',
        payload: { displayName: `Forms ${uniqueEmail('g')}`, members: [{ value: a.body.id }, { value: b.body.id }] },
      })
    ).json()
    const gpath = `/Groups/${group.id}`
    // Entra ID removes with a value list, Okta with a filter path.
    const entraRemove = await scim({
      method: 'PATCH',
      path: gpath,
      payload: { schemas: [PATCH_URN], Operations: [{ op: 'Remove', path: 'members', value: [{ value: a.body.id }] }] },
    })
    expectGroup(entraRemove.json(), { displayName: group.displayName, members: [b.body.id] })
    const oktaRemove = await scim({
      method: 'PATCH',
      path: gpath,
      payload: { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[value eq "${b.body.id}"]` }] },
    })
    expectGroup(oktaRemove.json(), { displayName: group.displayName, members: [] })
    const replace = await scim({
      method: 'PATCH',
      path: gpath,
      payload: { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'members', value: [{ value: a.body.id }, { value: c.body.id }] }] },
    })
    expectGroup(replace.json(), { displayName: group.displayName, members: [a.body.id, c.body.id] })
    const unknownMember = await scim({ method: 'PATCH', path: gpath, payload: { Operations: [{ op: 'add', path: 'members', value: [{ value: 'nobody' }] }] } })
    expectScimError(unknownMember, 400, 'invalidValue')
    // PUT without members keeps them; with members replaces them.
    const rename = await scim({ method: 'PUT', path: gpath, payload: { schemas: [GROUP_URN], displayName: `${group.displayName} 2` } })
    expectGroup(rename.json(), { displayName: `${group.displayName} 2`, members: [a.body.id, c.body.id] })
    const putMembers = await scim({ method: 'PUT', path: gpath, payload: { displayName: `${group.displayName} 2`, members: [{ value: b.body.id }] } })
    expectGroup(putMembers.json(), { displayName: `${group.displayName} 2`, members: [b.body.id] })
    // The group as modelgate's own API shows it.
    const own = await h.request({ method: 'GET', url: `/api/v1/groups/id/${group.id}`, headers: h.admin.auth })
    expect(own.json()).toMatchObject({ name: `${group.displayName} 2`, user_ids: [b.body.id] })
  })

  it('deactivation through PUT revokes the API key at once; the last admin cannot be deactivated or deleted', async () => {
    const { email, body } = await createScimUser({ password: PASSWORD })
    const session = await signIn(email)
    const key = (await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: session })).json().api_key as string
    const withKey = { authorization: `Bearer ${key}` }
    expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: withKey })).statusCode).toBe(200)
    const put = await scim({ method: 'PUT', path: `/Users/${body.id}`, payload: { userName: email, active: false } })
    expect(put.json().active).toBe(false)
    expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: withKey })).statusCode).toBe(401)
    expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: session })).statusCode).toBe(401)

    expectScimError(await scim({ method: 'PATCH', path: `/Users/${h.admin.id}`, payload: { Operations: [{ op: 'replace', value: { active: false } }] } }), 409)
    expectScimError(await scim({ method: 'DELETE', path: `/Users/${h.admin.id}` }), 409)
    expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: h.admin.auth })).json().role).toBe('admin')
  })

  it('delete: a user and a group go, with their memberships and the grants naming the group', async () => {
    const { body } = await createScimUser()
    const group = (
      await scim({ method: 'POST', path: '/Groups', payload: { displayName: `Doomed ${uniqueEmail('d')}`, members: [{ value: body.id }] } })
    ).json()
    const modelId = `scim-doomed-${group.id.slice(0, 8)}`
    await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: h.admin.auth,
      payload: preset(modelId, { access_grants: [{ principal_type: 'group', principal_id: group.id, permission: 'read' }] }),
    })
    const deleted = await scim({ method: 'DELETE', path: `/Groups/${group.id}` })
    expect(deleted.statusCode).toBe(204)
    expect(deleted.body).toBe('')
    expectScimError(await scim({ method: 'GET', path: `/Groups/${group.id}` }), 404)
    const model = await h.request({ method: 'GET', url: '/api/v1/models/model', query: { id: modelId }, headers: h.admin.auth })
    expect(model.json().access_grants).toEqual([])
    expect((await scim({ method: 'DELETE', path: `/Users/${body.id}` })).statusCode).toBe(204)
    expectScimError(await scim({ method: 'GET', path: `/Users/${body.id}` }), 404)
    expectScimError(await scim({ method: 'DELETE', path: `/Users/${body.id}` }), 404)
  })
})

describe.each(DIALECTS)('SCIM switched off on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(() => h.close())

  it('every SCIM request is refused with 403 in the SCIM error format, whatever the token', async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }, h.admin.auth]) {
      const res = await h.request({ method: 'GET', url: `${SCIM}/Users`, headers })
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ schemas: [ERROR_URN], status: '403' })
    }
  })
})
