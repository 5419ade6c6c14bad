/**
 * The templates pages' pure parts, in Node against the server's own schema: the body the template editor
 * builds (sections not held are null, locked keys), what it refuses before sending and at which field,
 * where the server's `errors` go, how a template fills a new model's form (edited fields win), and the
 * apply body (ids or a filter, never an empty filter).
 */
import { describe, expect, it, vi } from 'vitest'

// api/client.ts builds its client from the page's origin when it loads; this test runs in Node.
vi.hoisted(() => vi.stubGlobal('window', { location: { origin: 'http://127.0.0.1' } }))

import { ApiError, type Template } from '../../api/client'
import { emptyInitial } from '../model-editor/form'
import { describePath } from '../history/DiffTable'
import { applyBody, emptyApplyDraft, filterOf, grantPrincipals, principalNamer } from './apply'
import {
  TEMPLATE_UNPLACED,
  dirtyNames,
  emptyTemplate,
  fillFromTemplate,
  initialFromTemplate,
  ownerLabel,
  placeTemplateError,
  sectionsOf,
  templateFieldFor,
  templateResolver,
  toTemplateBody,
  type TemplateValues,
} from './template-form'

const template = (patch: Partial<Template> = {}): Template => ({
  id: 'support-bot',
  user_id: 'u1',
  user: { id: 'u1', name: 'Ada' },
  name: 'Support bot',
  description: '',
  base_model_id: null,
  params: null,
  locked_params: null,
  meta: null,
  access_grants: null,
  template_access_grants: [],
  created_at: 1,
  updated_at: 1,
  write_access: true,
  ...patch,
})

function values(patch: (values: TemplateValues) => void): TemplateValues {
  const copy = structuredClone(emptyTemplate().values)
  copy.id = 'support-bot'
  copy.name = 'Support bot'
  patch(copy)
  return copy
}

const resolve = (mode: 'create' | 'edit', input: TemplateValues, loaded = emptyTemplate().loaded) =>
  templateResolver(mode, loaded)(input, { access: null, sharing: [] }, { fields: {}, shouldUseNativeValidation: false })

describe('template editor form', () => {
  it('sends every section, null when the form leaves it empty', () => {
    const body = toTemplateBody(
      values(() => undefined),
      emptyTemplate().loaded,
      null,
      [],
    )
    expect(body).toEqual({
      id: 'support-bot',
      name: 'Support bot',
      description: '',
      base_model_id: null,
      params: null,
      locked_params: null,
      meta: null,
      access_grants: null,
      template_access_grants: [],
    })
  })

  it('builds the Support bot: system prompt locked, temperature 0.3, tags, read for a group', () => {
    const grants = [{ principal_type: 'group' as const, principal_id: 'g-support', permission: 'read' as const }]
    const body = toTemplateBody(
      values((v) => {
        v.params.system = 'You are the support bot.'
        v.params.temperature = '0.3'
        v.locked['system'] = true
        v.meta.tags = ['support', 'bot']
      }),
      emptyTemplate().loaded,
      grants,
      [],
    )
    expect(body.params).toEqual({ system: 'You are the support bot.', temperature: 0.3 })
    expect(body.locked_params).toEqual(['system'])
    expect(body.meta).toEqual({ tags: [{ name: 'support' }, { name: 'bot' }] })
    expect(body.access_grants).toEqual(grants)
  })

  it('keeps keys the form does not show, and capabilities only when asked to set them', () => {
    const loaded = { params: { custom_params: { a: 1 }, temperature: 0.5 }, meta: { knowledge: [1], capabilities: { extra: true } }, locked: ['custom_params'] }
    const body = toTemplateBody(
      values((v) => {
        v.meta.set_capabilities = true
        v.meta.capabilities = { vision: false }
      }),
      loaded,
      [],
      [],
    )
    expect(body.params).toEqual({ custom_params: { a: 1 } })
    expect(body.locked_params).toEqual(['custom_params'])
    expect(body.meta).toEqual({ knowledge: [1], capabilities: { extra: true, vision: false } })
    // An empty access section is held (replace makes models private); null is not held.
    expect(body.access_grants).toEqual([])
  })

  it('reads a stored template back into the form and out again unchanged', () => {
    const stored = template({
      base_model_id: 'llama3.1:8b',
      params: { system: 'Hi', temperature: 0.3, stop: ['###'], custom: 1 },
      locked_params: ['system', 'custom'],
      meta: { description: 'Answers tickets', tags: [{ name: 'support' }], capabilities: { vision: false }, other: 'x' },
      access_grants: [{ principal_type: 'group', principal_id: 'g1', permission: 'read' }],
      template_access_grants: [{ principal_type: 'user', principal_id: 'u2', permission: 'read' }],
    })
    const initial = initialFromTemplate(stored)
    expect(initial.values.params.temperature).toBe('0.3')
    expect(initial.values.locked['system']).toBe(true)
    expect(initial.values.meta.set_capabilities).toBe(true)
    const body = toTemplateBody(initial.values, initial.loaded, initial.access, initial.sharing)
    expect(body).toMatchObject({
      base_model_id: 'llama3.1:8b',
      params: stored.params,
      locked_params: ['system', 'custom'],
      access_grants: stored.access_grants,
      template_access_grants: stored.template_access_grants,
    })
    expect(body.meta).toEqual({
      description: 'Answers tickets',
      tags: [{ name: 'support' }],
      capabilities: expect.objectContaining({ vision: false }),
      other: 'x',
    })
  })

  it("refuses with the server's schema before sending, at the field", async () => {
    const result = await resolve(
      'create',
      values((v) => {
        v.params.temperature = '3'
      }),
    )
    expect(result.errors).toMatchObject({ params: { temperature: { message: expect.stringContaining('between 0 and 2') } } })
    const empty = await resolve(
      'create',
      values((v) => {
        v.name = ''
        v.id = ''
      }),
    )
    expect(Object.keys(empty.errors).sort()).toEqual(['id', 'name'])
    expect(empty.errors.root?.[TEMPLATE_UNPLACED]).toBeUndefined()
    const fine = await resolve(
      'edit',
      values((v) => {
        v.params.temperature = '0.3'
      }),
    )
    expect(fine.errors).toEqual({})
  })

  it("judges the access dialogs' grants too (given as the form's context), at the access section", async () => {
    const bad = [{ principal_type: 'group' as const, principal_id: '', permission: 'read' as const }]
    const result = await templateResolver('create', emptyTemplate().loaded)(
      values(() => undefined),
      { access: bad, sharing: [] },
      { fields: {}, shouldUseNativeValidation: false },
    )
    expect(Object.keys(result.errors)).toEqual(['access_grants'])
    const shared = await templateResolver('create', emptyTemplate().loaded)(
      values(() => undefined),
      { access: null, sharing: bad },
      { fields: {}, shouldUseNativeValidation: false },
    )
    expect(Object.keys(shared.errors)).toEqual(['template_access_grants'])
  })

  it('names a field for each body path the server may name', () => {
    expect(templateFieldFor(['params', 'temperature'])).toBe('params.temperature')
    expect(templateFieldFor(['params', 'custom_params'])).toBeUndefined()
    expect(templateFieldFor(['meta', 'tags', 3])).toBe('meta.tags')
    expect(templateFieldFor(['locked_params', 1])).toBe('locked_params')
    expect(templateFieldFor(['access_grants', 0, 'principal_id'])).toBe('access_grants')
    expect(templateFieldFor(['access_control'])).toBe('access_grants')
    expect(templateFieldFor(['template_access_grants', 0])).toBe('template_access_grants')
    expect(templateFieldFor(['from_model_id'])).toBeUndefined()
  })

  it("places the server's errors[] at their fields, a taken id at the id, the rest in the banner", () => {
    const error = new ApiError(400, 'INVALID_PARAMS', '…', {
      errors: [
        { path: 'body.params.temperature', message: 'must be a number between 0 and 2 (got 3)', code: 'INVALID_PARAMS' },
        { path: 'body.locked_params', message: 'top_k is not a key of params', code: 'VALIDATION_ERROR' },
        { path: 'query.x', message: 'odd', code: 'VALIDATION_ERROR' },
      ],
    })
    expect(placeTemplateError(error, true)).toEqual({
      fields: [
        ['params.temperature', 'must be a number between 0 and 2 (got 3)'],
        ['locked_params', 'top_k is not a key of params'],
      ],
      rest: ['query.x: odd'],
    })
    expect(placeTemplateError(new ApiError(409, 'CONFLICT', 'This id is already used.'), true)).toEqual({
      fields: [['id', 'This id is already used.']],
      rest: [],
    })
    expect(placeTemplateError(new ApiError(409, 'CONFLICT', 'Changed meanwhile.'), false)).toEqual({ fields: [], rest: ['Changed meanwhile.'] })
    expect(placeTemplateError(new ApiError(400, 'BASE_MODEL_UNAVAILABLE', 'No such base.'), false)).toEqual({
      fields: [['base_model_id', 'No such base.']],
      rest: [],
    })
  })

  it('says what a template holds', () => {
    expect(sectionsOf(template())).toEqual([])
    expect(
      sectionsOf(template({ base_model_id: 'b', params: { system: 's', temperature: 0.3 }, locked_params: ['system'], meta: { tags: [] }, access_grants: [] })),
    ).toEqual(['Base model', 'Parameters (2, 1 locked)', 'Meta (tags)', 'Access'])
  })
})

describe('a new model from a template', () => {
  const support = template({
    base_model_id: 'llama3.1:8b',
    params: { system: 'You are the support bot.', temperature: 0.3, top_p: 0.9 },
    meta: { description: 'Answers tickets', tags: [{ name: 'support' }], capabilities: { vision: false } },
  })

  it('fills the fields the user has not edited; what they typed wins; tags are united', () => {
    const current = structuredClone(emptyInitial().values)
    current.params.temperature = '0.7'
    current.meta.tags = ['mine']
    const next = fillFromTemplate(current, dirtyNames({ params: { temperature: true }, meta: { tags: [true] } }), support)
    expect(next.base_model_id).toBe('llama3.1:8b')
    expect(next.params.system).toBe('You are the support bot.')
    expect(next.params.temperature).toBe('0.7')
    expect(next.params.top_p).toBe('0.9')
    expect(next.meta.description).toBe('Answers tickets')
    expect(next.meta.tags).toEqual(['mine', 'support'])
    expect(next.meta.capabilities['vision']).toBe(false)
    // The current values are not changed in place.
    expect(current.params.system).toBe('')
  })

  it('flattens react-hook-form dirty fields to dotted names', () => {
    expect([...dirtyNames({ name: true, params: { temperature: true, top_p: false }, meta: { tags: [true, false] } })].sort()).toEqual(
      ['meta', 'meta.tags', 'meta.tags.0', 'name', 'params', 'params.temperature'].sort(),
    )
    expect(dirtyNames({})).toEqual(new Set())
  })
})

describe('the owner', () => {
  it('shows the name the server sends, "(you)" for your own, the id when the account is gone', () => {
    expect(ownerLabel(template(), 'someone-else')).toBe('Ada')
    expect(ownerLabel(template(), 'u1')).toBe('Ada (you)')
    expect(ownerLabel(template({ user: null, user_id: 'gone' }), 'u1')).toBe('gone')
  })
})

describe('names in the apply preview', () => {
  const changes = [
    { path: 'access_grants.group:g1:read' },
    { path: 'access_grants.group:g1:write' },
    { path: 'access_grants.user:u2:read' },
    { path: 'access_grants.user:*:read' },
    { path: 'access_grants.user:me:write' },
    { path: 'params.temperature' },
  ]

  it('collects the groups and accounts the access changes name, each once (not everyone)', () => {
    expect(grantPrincipals(changes)).toEqual({ groups: ['g1'], users: ['u2', 'me'] })
    expect(grantPrincipals([{ path: 'meta.tags' }])).toEqual({ groups: [], users: [] })
  })

  it('names groups and accounts the caller may read, yourself as "(you)", and falls back to the id', () => {
    const nameOf = principalNamer({ groups: [{ id: 'g1', name: 'Support' }], users: new Map([['u2', 'Bea']]), self: { id: 'me', name: 'Ada' } })
    expect(describePath('access_grants.group:g1:read', nameOf)).toBe('Access: group Support may read')
    expect(describePath('access_grants.user:u2:write', nameOf)).toBe('Access: user Bea may write')
    expect(describePath('access_grants.user:me:write', nameOf)).toBe('Access: user Ada (you) may write')
    expect(describePath('access_grants.group:unknown:read', nameOf)).toBe('Access: group unknown may read')
    expect(describePath('access_grants.user:hidden:read', nameOf)).toBe('Access: user hidden may read')
    expect(describePath('access_grants.user:*:read', nameOf)).toBe('Access: everyone may read')
    expect(describePath('params.temperature', nameOf)).toBe('params.temperature')
  })
})

describe('apply to models', () => {
  it('sends the chosen ids, or the filter fields that narrow', () => {
    const byIds = { ...emptyApplyDraft(), by: 'ids' as const, ids: new Map([['a', 'A']]), mode: 'replace' as const }
    expect(applyBody('t', byIds, true)).toEqual({ body: { id: 't', mode: 'replace', dry_run: true, model_ids: ['a'] } })
    const byTag = { ...emptyApplyDraft(), filter: { query: ' ', tag: 'support', base_model_id: '', user_id: '', template_id: '' } }
    expect(applyBody('t', byTag, false)).toEqual({ body: { id: 't', mode: 'merge', dry_run: false, filter: { tag: 'support' } } })
    expect(filterOf({ query: ' faq ', tag: '', base_model_id: 'b', user_id: 'u', template_id: '' })).toEqual({ query: 'faq', base_model_id: 'b', user_id: 'u' })
  })

  it('"models that follow this template" alone is a filter: template_id, with the other fields that narrow', () => {
    const following = { ...emptyApplyDraft(), filter: { ...emptyApplyDraft().filter, template_id: 't' } }
    expect(applyBody('t', following, true)).toEqual({ body: { id: 't', mode: 'merge', dry_run: true, filter: { template_id: 't' } } })
    const drifted = { ...emptyApplyDraft(), filter: { ...emptyApplyDraft().filter, template_id: 't', tag: 'support' } }
    expect(applyBody('t', drifted, false)).toEqual({ body: { id: 't', mode: 'merge', dry_run: false, filter: { tag: 'support', template_id: 't' } } })
  })

  it('never sends an empty choice: no model, or a filter that would pick every model', () => {
    expect(applyBody('t', { ...emptyApplyDraft(), by: 'ids' }, true)).toEqual({ problem: 'Choose at least one model.' })
    expect(applyBody('t', emptyApplyDraft(), true)).toMatchObject({ problem: expect.stringContaining('at least one filter field') })
  })
})
