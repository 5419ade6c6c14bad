/** `/api/v1/models/…/history`, the trash and pruning (issue #12): filled in by the history feature. */
import type { App, Guards } from '../http/route-kit.js'
import type { ModelHistory } from './model-history.js'

export function registerHistoryRoutes(_app: App, _deps: { history: ModelHistory; guards: Guards }): void {}
