/**
 * Who may read GET /metrics (docs/metrics.md, "Protection"): a scraper holding METRICS_TOKEN, or an
 * administrator (session or API key). A plain user is refused: metrics show traffic, connections and
 * errors of the whole service.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Passes a request carrying `Authorization: Bearer <METRICS_TOKEN>` (when one is configured), compared in
 * constant time; otherwise the caller must be an administrator: `requireAdmin` authenticates the same
 * header and checks the role (401 without a valid credential, 403 for a non-admin).
 */
export async function requireMetricsReader(metricsToken: string | null, authorization: string | undefined, requireAdmin: () => Promise<void>): Promise<void> {
  if (metricsToken !== null) {
    const presented = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined
    if (presented !== undefined && sameSecret(presented, metricsToken)) return
  }
  await requireAdmin()
}

/** Same time however much matches: both sides hashed to a fixed length first, so not even the length leaks. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(presented), digest(expected))
}
