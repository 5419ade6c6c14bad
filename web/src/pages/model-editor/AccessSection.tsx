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
}

export function AccessSection({ grants, onGrants, modelId, can }: AccessSectionProps) {
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
            <AccessDialog grants={grants} modelId={modelId} can={can} modelName={name} onApply={onGrants} onClose={() => setOpen(false)} />,
            document.body,
          )
        : null}
    </>
  )
}
