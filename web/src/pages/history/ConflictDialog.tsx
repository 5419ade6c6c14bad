/**
 * The answer to a 412 PRECONDITION_FAILED: someone changed the model after this editor loaded it. The
 * dialog shows what changed meanwhile (the diff from the loaded version to the current one) and offers
 * Reload (discard my edits and load the current model) or Overwrite (send mine again, naming the
 * current version in If-Match). Closing it keeps the edits on screen and saves nothing.
 */
import { ErrorState, Loading } from '../../components/States'
import { Dialog } from '../../components/Dialog'
import { useVersionDiff } from '../../lib/queries'
import { DiffTable } from './DiffTable'

interface ConflictDialogProps {
  modelId: string
  /** The version this editor loaded (what its If-Match named). */
  loadedVersion: number
  /** The model's version now (`current_version` of the 412). */
  currentVersion: number
  /** What the refused write was, for the text ("save", "delete", "change access of"). */
  action: string
  busy: boolean
  onReload: () => void
  onOverwrite: () => void
  onClose: () => void
}

export function ConflictDialog({ modelId, loadedVersion, currentVersion, action, busy, onReload, onOverwrite, onClose }: ConflictDialogProps) {
  const diff = useVersionDiff(modelId, loadedVersion, currentVersion)
  return (
    <Dialog
      title="This model changed since you opened it"
      size="large"
      onClose={onClose}
      description={`You opened version ${loadedVersion}; it is now at version ${currentVersion}. Your ${action} was not applied.`}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="button" onClick={onReload} disabled={busy} data-autofocus>
            Reload (discard my edits)
          </button>
          <button type="button" className="button button-danger" onClick={onOverwrite} disabled={busy}>
            {busy ? 'Working…' : 'Overwrite'}
          </button>
        </>
      }
    >
      <h3 className="dialog-section-title">What changed meanwhile</h3>
      {loadedVersion < 1 ? (
        <p className="muted">The model had no recorded version when you opened it: its History tab shows what was recorded since.</p>
      ) : diff.error ? (
        <ErrorState error={diff.error} title="The changes could not be shown" />
      ) : !diff.data ? (
        <Loading label="Comparing the versions…" />
      ) : (
        <DiffTable
          changes={diff.data.changes}
          fromLabel={`Version ${loadedVersion} (yours)`}
          toLabel={`Version ${currentVersion} (now)`}
          caption={`Changes from version ${loadedVersion} to version ${currentVersion}`}
        />
      )}
      <p className="hint">
        <strong>Reload</strong> shows the current model and drops your unsaved edits. <strong>Overwrite</strong> applies your {action} on top of version{' '}
        {currentVersion}, replacing what changed.
      </p>
    </Dialog>
  )
}
