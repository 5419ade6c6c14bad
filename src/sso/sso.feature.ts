/** Single sign-on wired together: the relying party, the flow cookie and the sign-in service (null when OPENID_PROVIDER_URL is unset). */
import type { AuthService } from '../auth/auth.service.js'
import type { Config } from '../config/env.js'
import type { Database } from '../db/database.js'
import type { GroupsService } from '../groups/groups.service.js'
import type { UsersService } from '../users/users.service.js'
import { FlowCookie } from './flow-cookie.js'
import { OidcClient } from './oidc-client.js'
import { SsoService } from './sso.service.js'

export interface Sso {
  client: OidcClient
  flow: FlowCookie
  service: SsoService
}

export function createSso(
  config: Pick<Config, 'oidc'>,
  database: Database,
  secretKey: string,
  deps: { auth: AuthService; users: UsersService; groups: GroupsService },
): Sso | null {
  if (!config.oidc) return null
  return {
    client: new OidcClient(config.oidc),
    flow: new FlowCookie(secretKey),
    service: new SsoService(database, config.oidc, deps.auth, deps.users, deps.groups),
  }
}
