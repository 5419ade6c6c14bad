import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The file that keeps a generated key, named as Open WebUI names it so a shared data dir behaves alike. */
export const SECRET_KEY_FILE = '.webui_secret_key'

/**
 * Returns the JWT signing key: `WEBUI_SECRET_KEY` when set, else the key kept in `dataDir`, generated
 * on first start (so sessions survive restarts without any setup). The file is readable by its owner only.
 */
export function resolveSecretKey(configured: string | null, dataDir: string): string {
  if (configured) return configured
  const file = join(dataDir, SECRET_KEY_FILE)
  try {
    const kept = readFileSync(file, 'utf8').trim()
    if (kept.length >= 16) return kept
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dataDir, { recursive: true })
  const key = randomBytes(32).toString('base64url')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return key
}
