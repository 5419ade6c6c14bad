/** `npm run migrate`: applies pending migrations to the configured database and exits. */
import { ConfigError, loadConfig } from '../config/env.js'
import { createDatabase } from './database.js'
import { migrateToLatest } from './migrator.js'

async function main(): Promise<void> {
  const config = loadConfig()
  const database = createDatabase(config.database)
  try {
    const applied = await migrateToLatest(database)
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.')
  } finally {
    await database.close()
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exitCode = 1
})
