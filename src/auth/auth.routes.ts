/** `/api/v1/auths`: Open WebUI's paths for sign-up, sign-in, the session user and API keys. */
import { z } from 'zod'
import { accountOf, BEARER, originOf, type App, type Guards } from '../http/route-kit.js'
import { trueResponse } from '../schema/common.js'
import { UserResponseSchema } from '../users/users.schema.js'
import { presentUser } from '../users/users.presenter.js'
import {
  AddUserSchema,
  ApiKeyCreatedSchema,
  ApiKeyInfoSchema,
  PasswordChangeSchema,
  SessionResponseSchema,
  SessionUserSchema,
  SigninSchema,
  SignupSchema,
} from './auth.schema.js'
import type { AuthService } from './auth.service.js'

export function registerAuthRoutes(app: App, deps: { auth: AuthService; guards: Guards }): void {
  const { auth, guards } = deps
  const tags = ['auths']

  app.post('/api/v1/auths/signup', {
    schema: {
      tags,
      summary: 'Create an account. The first account becomes admin; later ones get DEFAULT_USER_ROLE.',
      body: SignupSchema,
      response: { 200: SessionResponseSchema },
    },
    handler: (request) => auth.signup(request.body, originOf(request)),
  })

  app.post('/api/v1/auths/signin', {
    schema: {
      tags,
      summary: 'Exchange email and password for a session token. Failures are rate limited (429).',
      body: SigninSchema,
      response: { 200: SessionResponseSchema },
    },
    handler: (request) => auth.signin(request.body, originOf(request)),
  })

  app.get('/api/v1/auths/', {
    onRequest: guards.authenticated,
    schema: {
      tags,
      summary: 'The signed-in account and its resolved feature permissions (pending accounts too).',
      security: BEARER,
      response: { 200: SessionUserSchema },
    },
    handler: (request) => auth.sessionUser(accountOf(request)),
  })

  app.post('/api/v1/auths/update/password', {
    onRequest: guards.verified,
    schema: {
      tags,
      summary:
        'Change your password. Revokes every session of the account (this one too) and answers a fresh token; API keys stay. Wrong current password: 400; rate limited like sign-in.',
      security: BEARER,
      body: PasswordChangeSchema,
      response: { 200: SessionResponseSchema },
    },
    handler: (request) => auth.changePassword(accountOf(request), request.body, originOf(request)),
  })

  app.post('/api/v1/auths/add', {
    onRequest: guards.admin,
    schema: {
      tags,
      summary: 'Admin: create an account (default role user).',
      security: BEARER,
      body: AddUserSchema,
      response: { 200: UserResponseSchema },
    },
    handler: async (request) => presentUser(await auth.addUser(request.body, accountOf(request))),
  })

  app.post('/api/v1/auths/api_key', {
    onRequest: guards.verified,
    schema: {
      tags,
      summary: 'Create or replace your API key. The key is shown in this answer only.',
      security: BEARER,
      response: { 200: ApiKeyCreatedSchema },
    },
    handler: (request) => auth.createApiKey(accountOf(request)),
  })

  app.get('/api/v1/auths/api_key', {
    onRequest: guards.verified,
    schema: {
      tags,
      summary: 'Describe your API key (hint and dates; the key itself is never shown again).',
      security: BEARER,
      response: { 200: ApiKeyInfoSchema },
    },
    handler: (request) => auth.getApiKey(accountOf(request)),
  })

  app.delete('/api/v1/auths/api_key', {
    onRequest: guards.verified,
    schema: { tags, summary: 'Revoke your API key.', security: BEARER, response: { 200: trueResponse } },
    handler: (request) => auth.deleteApiKey(accountOf(request)),
  })

  // Open WebUI clients call signout; tokens are stateless, so the client discarding it is the sign-out.
  // Public on purpose (always 200); a request carrying a valid credential is audited.
  app.get('/api/v1/auths/signout', {
    schema: { tags, summary: 'Sign out (the client discards its token).', response: { 200: z.object({ status: z.literal(true) }) } },
    handler: async (request) => {
      await auth.signout(request.headers.authorization, originOf(request))
      return { status: true as const }
    },
  })
}
