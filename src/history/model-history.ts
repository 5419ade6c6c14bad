/** Reading, comparing and restoring model versions (issue #12): filled in by the history feature. */
import type { Models } from '../models/models.feature.js'

export class ModelHistory {
  constructor(readonly models: Models) {}
}
