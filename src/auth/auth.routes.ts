/** `/api/v1/auths`: Open WebUI's paths for sign-up, sign-in, the session user, the account's own settings, API keys and the admin config. */
import { z } from 'zod'
import { accountOf, BEARER, clearSessionCookie, originOf, setSessionCookie, tokenCookie, type App, type Guards } from '../http/route-kit.js'
import { trueResponse } from '../schema/common.js'
import { UserResponseSchema } from '../users/users.schema.js'
import { presentUser } from '../users/users.presenter.js'
import type { UsersService } from '../users/users.service.js'
import {
  AddUserSchema,
  AdminConfigSchema,
  AdminConfigUpdateSchema,
  AdminDetailsSchema,
  ProfileUpdateSchema,
  ApiKeyCreatedSchema,
  ApiKeyInfoSchema,
  PasswordChangeSchema,
  SessionResponseSchema,
  SessionUserSchema,
  SigninSchema,
  SignupSchema,
} from './auth.schema.js'
import type { AuthService } from './auth.service.js'

export function registerAuthRoutes(app: App, deps: { auth: AuthService; users: UsersService; guards: Guards }): void {
  const { auth, users, guards } = deps
  const tags = ['auths']

  app.post('/api/v1/auths/signup', {
    schema: {
      tags,
      summary: 'Create an account. The first account becomes admin; later ones get DEFAULT_USER_ROLE.',
      body: SignupSchema,
      response: { 200: SessionResponseSchema },
    },
    handler: async (request, reply) => {
      const session = await auth.signup(request.body, originOf(request))
      setSessionCookie(reply, request, session.token, session.expires_at)
      return session
    },
  })

  app.post('/api/v1/auths/signin', {
    schema: {
      tags,
      summary: 'Exchange email and password for a session token. Failures are rate limited (429).',
      body: SigninSchema,
      response: { 200: SessionResponseSchema },
    },
    handler: async (request, reply) => {
      const session = await auth.signin(request.body, originOf(request))
      setSessionCookie(reply, request, session.token, session.expires_at)
      return session
    },
  })

  app.get('/api/v1/auths/', {
    onRequest: guards.authenticatedAllowCookie,
    schema: {
      tags,
      summary:
        'The signed-in account, its resolved feature permissions and when its token expires (pending accounts too). Also accepts the token cookie; a session token sent in the header is set as the cookie.',
      security: BEARER,
      response: { 200: SessionUserSchema },
    },
    handler: async (request, reply) => {
      const credential = request.credential
      // As Open WebUI does: the session token of the header becomes the cookie (profile pictures in <img>).
      if (credential?.token && !credential.fromCookie) setSessionCookie(reply, request, credential.token, credential.expiresAt)
      return auth.sessionUser(accountOf(request), credential?.expiresAt ?? null)
    },
  })

  app.post('/api/v1/auths/update/profile', {
    onRequest: guards.verified,
    schema: {
      tags,
      summary: "Change your own name or picture (Open WebUI's bio, gender and date_of_birth are accepted and not kept).",
      security: BEARER,
      body: ProfileUpdateSchema,
      response: { 200: UserResponseSchema },
    },
    handler: async (request) => presentUser(await users.updateProfile(accountOf(request), request.body)),
  })

  app.get('/api/v1/auths/signup/enabled', {
    onRequest: guards.admin,
    schema: { tags, summary: 'Admin: whether public sign-up is open (ENABLE_SIGNUP).', security: BEARER, response: { 200: z.boolean() } },
    handler: () => auth.signupEnabled(),
  })

  app.get('/api/v1/auths/admin/config', {
    onRequest: guards.admin,
    schema: {
      tags,
      summary: "Admin: Open WebUI's admin config (sign-up, default role, API keys, token lifetime).",
      security: BEARER,
      response: { 200: AdminConfigSchema },
    },
    handler: () => auth.settings.adminConfig(),
  })

  app.post('/api/v1/auths/admin/config', {
    onRequest: guards.admin,
    schema: {
      tags,
      summary: 'Admin: change the admin config (absent keys stay; other upper-case keys are kept as given). Applies at once; audited.',
      security: BEARER,
      body: AdminConfigUpdateSchema,
      response: { 200: AdminConfigSchema },
    },
    handler: (request) => auth.settings.updateAdminConfig(request.body, accountOf(request)),
  })

  app.get('/api/v1/auths/admin/details', {
    onRequest: guards.authenticated,
    schema: {
      tags,
      summary: 'Whom to ask for approval: the first admin (pending accounts too; 403 when SHOW_ADMIN_DETAILS is off).',
      security: BEARER,
      response: { 200: AdminDetailsSchema },
    },
    handler: () => auth.adminDetails(),
  })

  app.post('/api/v1/auths/update/password', {
    onRequest: guards.verified,
    schema: {
      tags,
      summary:
        "Change your password. Revokes the account's other sessions (the token of this request stays valid) and answers a fresh token too; API keys stay. Wrong current password: 400; rate limited like sign-in.",
      security: BEARER,
      body: PasswordChangeSchema,
      response: { 200: SessionResponseSchema },
    },
    handler: async (request, reply) => {
      const session = await auth.changePassword(accountOf(request), request.body, originOf(request), request.headers.authorization)
      setSessionCookie(reply, request, session.token, session.expires_at)
      return session
    },
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
  // Public on purpose (always 200): clears the token cookie; a request carrying a valid credential (header
  // or cookie: Open WebUI's client sends only the cookie) is audited.
  app.get('/api/v1/auths/signout', {
    schema: { tags, summary: 'Sign out: clears the token cookie (the client discards its token).', response: { 200: z.object({ status: z.literal(true) }) } },
    handler: async (request, reply) => {
      const cookieToken = tokenCookie(request.headers.cookie)
      await auth.signout(request.headers.authorization ?? (cookieToken ? `Bearer ${cookieToken}` : undefined), originOf(request))
      clearSessionCookie(reply, request)
      return { status: true as const }
    },
  })
}
