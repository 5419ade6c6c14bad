/** The end of the form: the request as JSON, Cancel and Save, and (editing, when allowed) Delete. */
import { useState } from 'react'
import { useWatch } from 'react-hook-form'
import { currentVersionOf, describeError, type GrantInput } from '../../api/client'
import { ConfirmDialog } from '../../components/Dialog'
import { notify } from '../../lib/notify'
import { useDeleteModel } from '../../lib/queries'
import { Link, navigate } from '../../lib/router'
import { previewOf, toBody, type EditorValues, type Loaded } from './form'
import { useEditor } from './fields'

export function RequestPreview({ loaded, grants }: { loaded: Loaded; grants?: GrantInput[] }) {
  const { control } = useEditor()
  // Typed as a deep-partial view, but the form holds every field from its default values on.
  const values = useWatch({ control }) as EditorValues
  const body = toBody(values, loaded)
  return (
    <details className="json-preview">
      <summary>JSON preview of the request</summary>
      <pre tabIndex={0} aria-label="Request body">
        {previewOf(grants ? { ...body, access_grants: grants } : body)}
      </pre>
    </details>
  )
}

export function ActionsSection({ isCreate, saving }: { isCreate: boolean; saving: boolean }) {
  return (
    <div className="form-actions">
      <Link to="/workspace/models" className="button">
        Cancel
      </Link>
      <button type="submit" className="button button-primary" disabled={saving}>
        {saving ? 'Saving…' : isCreate ? 'Create model' : 'Save changes'}
      </button>
    </div>
  )
}

/** Deleting an existing model, offered when the server says the caller may (`can.delete`). */
export function DangerZone({
  model,
  version,
  onConflict,
}: {
  model: { id: string; name: string }
  /** The version the editor loaded, sent as If-Match (a model changed since is not deleted unseen). */
  version?: number | undefined
  onConflict?: (current: number, again: (ifMatch: number) => Promise<void>) => void
}) {
  const remove = useDeleteModel()
  const [confirm, setConfirm] = useState(false)
  const send = async (ifMatch: number | undefined) => {
    await remove.mutateAsync({ id: model.id, ifMatch })
    notify(`Deleted ${model.name}.`, 'success')
    navigate('/workspace/models')
  }
  const onDelete = async () => {
    try {
      await send(version)
    } catch (error) {
      setConfirm(false)
      const current = currentVersionOf(error)
      if (current !== undefined && onConflict) onConflict(current, send)
      else notify(`Could not delete ${model.name}: ${describeError(error).detail}`, 'error')
    }
  }
  return (
    <section className="fieldset danger-zone" aria-labelledby="danger-zone-title">
      <h2 id="danger-zone-title" className="label-like">
        Danger zone
      </h2>
      <div className="row row-between">
        <p className="hint">Deleting removes the model and who may use it. This cannot be undone.</p>
        <button type="button" className="button button-small button-danger-outline" onClick={() => setConfirm(true)}>
          Delete model…
        </button>
      </div>
      {confirm ? (
        <ConfirmDialog title="Delete this model?" confirmLabel="Delete" busy={remove.isPending} onConfirm={onDelete} onCancel={() => setConfirm(false)}>
          <p>
            <strong>{model.name}</strong> (<code>{model.id}</code>) and who may use it will be deleted. This cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  )
}
