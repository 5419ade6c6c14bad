/**
 * Wires repositories and services by hand (no container): the one place that knows every feature.
 * main.ts and the test harness both build the service through here, so they run the same wiring.
 */
import { AccessRepo } from './access/access.repo.js'
import { AccessService } from './access/access.service.js'
import { AuthService } from './auth/auth.service.js'
import { TokenSigner } from './auth/tokens.js'
import type { Config } from './config/env.js'
import type { Database } from './db/database.js'
import { GroupsService } from './groups/groups.service.js'
import { UsersService } from './users/users.service.js'

export interface Services {
  config: Readonly<Config>
  database: Database
  access: AccessService
  auth: AuthService
  users: UsersService
  groups: GroupsService
}

export function createServices(config: Readonly<Config>, database: Database, secretKey: string): Services {
  const access = new AccessService(new AccessRepo(database.db), config.permissionDefaults)
  const auth = new AuthService(database, config, new TokenSigner(secretKey, config.jwtExpiresInMs), access)
  const users = new UsersService(database, (password) => auth.checkPassword(password))
  const groups = new GroupsService(database)
  return { config, database, access, auth, users, groups }
}
