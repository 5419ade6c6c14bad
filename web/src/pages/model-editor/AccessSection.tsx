/**
 * Who may use and edit the model: a summary and the access dialog. While creating, the grants go with
 * the model; on an existing model the dialog saves them at once.
 */
import { useState } from 'react'
import { createPortal } from 'react-dom'
import { useWatch } from 'react-hook-form'
import type { GrantInput, ModelAbilities } from '../../api/client'
import { describeAccess } from '../../lib/access'
import { AccessDialog } from '../AccessDialog'
import { useEditor } from './fields'

interface AccessSectionProps {
  grants: GrantInput[]
  onGrants: (grants: GrantInput[]) => void
  /** The model being edited (undefined while creating). */
  modelId?: string
  /** What the server says the caller may do with it; undefined while creating. */
  can?: ModelAbilities
  /** The version the editor loaded (sent as If-Match) and what to do with the version a save answers. */
  version?: number
  onVersion?: (version: number) => void
  /** A save refused with 412: the editor's dialog offers Reload or Overwrite (`again` with the new If-Match). */
  onConflict?: (current: number, again: (ifMatch: number) => Promise<void>) => void
}

export function AccessSection({ grants, onGrants, modelId, can, version, onVersion, onConflict }: AccessSectionProps) {
  const { control } = useEditor()
  const name = useWatch({ control, name: 'name' })
  const [open, setOpen] = useState(false)
  return (
    <>
      <div className="row row-between">
        <div>
          <span className="label-like">Access</span>
          <p className="access-summary" data-testid="access-summary">
            {describeAccess(grants)}
          </p>
        </div>
        <button type="button" className="button" onClick={() => setOpen(true)}>
          Access…
        </button>
      </div>
      {/* Outside the editor's <form> in the DOM: Enter in the dialog's inputs must not submit the model. */}
      {open
        ? createPortal(
            <AccessDialog
              grants={grants}
              modelId={modelId}
              can={can}
              modelName={name}
              onApply={onGrants}
              onClose={() => setOpen(false)}
              version={version}
              onVersion={onVersion}
              onConflict={onConflict}
            />,
            document.body,
          )
        : null}
    </>
  )
}
