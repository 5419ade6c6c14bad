/**
 * Issue #4's "done when", end to end over real HTTP: a fake provider with two models, an admin adds the
 * connection, creates a preset on one of them shared with a group; a member lists and streams through
 * the preset with the official openai client, and the provider receives the preset's system prompt and
 * parameters; a user outside the group gets MODEL_NOT_FOUND.
 */
import type { AddressInfo } from 'node:net'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

describe.each(DIALECTS)('gateway scenario on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let baseURL: string
  let member: TestAccount
  let outsider: TestAccount

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['llama-a', 'llama-b'], apiKey: 'sk-upstream' })
    h = await createHarness(dialect)
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    baseURL = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/v1`
    member = await h.createUser('user', 'Member')
    outsider = await h.createUser('user', 'Outsider')

    const connection = await h.request({
      method: 'POST',
      url: '/api/v1/connections/create',
      headers: h.admin.auth,
      payload: { name: 'fake', kind: 'openai', base_url: provider.baseUrl, api_key: 'sk-upstream' },
    })
    expect(connection.statusCode).toBe(200)
    expect(JSON.stringify(connection.json())).not.toContain('sk-upstream')
    const group = await h.request({
      method: 'POST',
      url: '/api/v1/groups/create',
      headers: h.admin.auth,
      payload: { name: 'Analysts', user_ids: [member.id] },
    })
    const preset = await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: h.admin.auth,
      payload: {
        id: 'sql-tutor',
        base_model_id: 'llama-a',
        name: 'SQL tutor',
        meta: {},
        params: { system: 'You teach SQL.', temperature: 0.2, max_tokens: 64, locked: ['temperature'] },
        access_grants: [{ principal_type: 'group', principal_id: group.json().id, permission: 'read' }],
      },
    })
    expect(preset.statusCode).toBe(200)
  })

  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('lets a member list the preset and stream through it with the preset applied', async () => {
    const client = new OpenAI({ apiKey: member.token, baseURL })
    const ids = (await client.models.list()).data.map((m) => m.id)
    expect(ids).toContain('sql-tutor')
    // Raw provider models without an override row are for admins only.
    expect(ids).not.toContain('llama-a')
    expect((await client.models.retrieve('sql-tutor')).id).toBe('sql-tutor')

    const before = provider.requests.length
    const stream = await client.chat.completions.create({
      model: 'sql-tutor',
      stream: true,
      temperature: 1.5,
      messages: [{ role: 'user', content: 'What is a JOIN?' }],
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toContain('echo: What is a JOIN?')

    const sent = provider.requests.slice(before).find((r) => r.path === '/v1/chat/completions')
    expect(sent?.headers.authorization).toBe('Bearer sk-upstream')
    expect(sent?.body).toMatchObject({
      model: 'llama-a',
      stream: true,
      temperature: 0.2, // locked by the preset: the request's 1.5 does not win
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'You teach SQL.' },
        { role: 'user', content: 'What is a JOIN?' },
      ],
    })
    expect(sent?.body).not.toHaveProperty('locked')
    expect(sent?.body).not.toHaveProperty('system')
  })

  it('answers MODEL_NOT_FOUND to a user outside the group, as for a model that does not exist', async () => {
    const client = new OpenAI({ apiKey: outsider.token, baseURL, maxRetries: 0 })
    expect((await client.models.list()).data.map((m) => m.id)).not.toContain('sql-tutor')
    const denied = await client.chat.completions.create({ model: 'sql-tutor', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error)
    const missing = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error)
    expect(denied).toBeInstanceOf(OpenAI.NotFoundError)
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
    expect((denied as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ code: 'MODEL_NOT_FOUND' })
  })
})
