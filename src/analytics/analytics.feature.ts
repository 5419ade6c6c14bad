/**
 * Usage analytics wired (docs/analytics.md): the recorder the gateway reports to (null with
 * USAGE_ANALYTICS=false: nothing is recorded, nothing runs) and the service the routes ask.
 */
import type { Database } from '../db/database.js'
import { AnalyticsService } from './analytics.service.js'
import { UsageRecorder, type RecorderOptions } from './usage-recorder.js'
import { UsageRepo } from './usage.repo.js'

export interface Analytics {
  recorder: UsageRecorder | null
  service: AnalyticsService
  close(): Promise<void>
}

export function createAnalytics(
  database: Database,
  settings: { recording: boolean; retentionDays: number },
  options: Omit<RecorderOptions, 'retentionDays'> = {},
): Analytics {
  const repo = new UsageRepo(database)
  const recorder = settings.recording ? new UsageRecorder(repo, { ...options, retentionDays: settings.retentionDays }) : null
  recorder?.start()
  return {
    recorder,
    service: new AnalyticsService(repo, settings, recorder),
    close: async () => void (await recorder?.close()),
  }
}
