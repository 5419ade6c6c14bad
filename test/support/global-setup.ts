/**
 * Runs once per `vitest run`, before any test file (vitest `globalSetup`): starts the e2e build
 * (`npm run build`) in the background when dist/ or web/dist is stale, so that it overlaps the first test
 * files instead of stalling the first browser test; ensureBuilt() (e2e-server.ts) waits for it.
 * (Cloning a migrated template database per harness was measured too: `CREATE DATABASE … TEMPLATE`
 * costs ~0.5 s on an idle machine, migrating a fresh schema ~0.11 s, so harnesses keep migrating.)
 */
import { startBuildInBackground } from './e2e-server.js'

// Options of the vitest CLI that take a separate value (as in vitest.config.ts): the value is no file filter.
const VALUE_OPTIONS = new Set(
  '-t --testNamePattern -c --config -r --root --dir --project --reporter --outputFile --shard --pool --exclude --maxWorkers --retry --bail --mode --environment'.split(
    ' ',
  ),
)

/** Whether browser tests are in this run: the whole suite, or a file filter that names test/e2e. */
function runsE2e(): boolean {
  const args = process.argv.slice(2)
  const filters = args.filter((arg, i) => !arg.startsWith('-') && !['run', 'watch', 'dev', 'related'].includes(arg) && !VALUE_OPTIONS.has(args[i - 1] ?? ''))
  return filters.length === 0 || filters.some((filter) => filter.includes('e2e'))
}

export function setup(): void {
  if (runsE2e()) startBuildInBackground()
}
