/**
 * `npm start` and `npm run migrate` build first, but only what is older than its sources (issue #16 item
 * 7): the server (`tsc -p tsconfig.build.json` → dist/) when a file under src/ or a TypeScript/package
 * setting is newer than dist/main.js, the web app (`vite build` → web/dist) when web/, sdk/src or src/ (the
 * web imports the server's schemas) is newer than web/dist/index.html. Plain JavaScript: it runs before
 * anything is built. `npm run build` still builds both unconditionally.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The newest modification time of a file or of everything under a folder (0 when missing). */
function newest(path) {
  const full = join(ROOT, path)
  if (!existsSync(full)) return 0
  const stat = statSync(full)
  if (!stat.isDirectory()) return stat.mtimeMs
  let time = stat.mtimeMs
  for (const entry of readdirSync(full)) time = Math.max(time, newest(join(path, entry)))
  return time
}

const builtAt = (path) => (existsSync(join(ROOT, path)) ? statSync(join(ROOT, path)).mtimeMs : 0)
const newestOf = (paths) => Math.max(...paths.map(newest))

const serverStale = newestOf(['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) > builtAt('dist/main.js')
const webStale =
  newestOf(['web/src', 'web/index.html', 'web/public', 'web/vite.config.ts', 'web/tsconfig.json', 'sdk/src', 'src', 'package.json']) >
  builtAt('web/dist/index.html')

const run = (command, args) => execFileSync(command, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } })
const bin = (name) => join(ROOT, 'node_modules', '.bin', name)

if (serverStale) {
  process.stdout.write('modelgate: building the server (src/ changed since dist/ was built)\n')
  run(bin('tsc'), ['-p', 'tsconfig.build.json'])
}
if (webStale) {
  process.stdout.write('modelgate: building the web app (its sources changed since web/dist was built)\n')
  run(bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'])
}
