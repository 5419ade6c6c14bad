/** Composition root: configuration → database → migrations → services → HTTP server. */
import { ConfigError, loadConfig } from './config/env.js'
import { resolveSecretKey } from './config/secret-key.js'
import { createDatabase } from './db/database.js'
import { migrateToLatest } from './db/migrator.js'
import { buildApp } from './http/app.js'
import { createServices } from './services.js'

async function main(): Promise<void> {
  const config = loadConfig()
  const database = createDatabase(config.database)
  await migrateToLatest(database)
  const services = createServices(config, database, resolveSecretKey(config.secretKey, config.dataDir), {
    onBackgroundError: (error) => console.error(`redis: ${error.message}`),
  })
  const app = await buildApp(services)

  const shutdown = (signal: string) => {
    app.log.info(`${signal}: shutting down`)
    app
      .close()
      .then(() => database.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))

  await app.listen({ port: config.port, host: config.host })
  app.log.info(`modelgate on ${config.database.dialect}; API reference at /docs`)
}

main().catch((error: unknown) => {
  // A bad environment is reported as one readable list, not a stack trace.
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
})
