/**
 * "Create from model…": a new template that starts from a model the caller may read. The server copies
 * the model's base, params and meta, and its grants only when the caller may write the model
 * (`POST /templates/create` with `from_model_id`); the editor then opens on the new template.
 */
import { useId, useState } from 'react'
import { describeError } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { InlineError, Loading } from '../../components/States'
import { slugify } from '../../lib/format'
import { useDebounced } from '../../lib/hooks'
import { notify } from '../../lib/notify'
import { useModelList, useSaveTemplate } from '../../lib/queries'
import { navigate } from '../../lib/router'
import { placeTemplateError } from './template-form'

export function FromModelDialog({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState('')
  const query = useDebounced(text.trim(), 300)
  const models = useModelList({ query, page: 1, limit: 8, order_by: 'name', direction: 'asc' })
  const [model, setModel] = useState<{ id: string; name: string } | null>(null)
  const [name, setName] = useState('')
  const [id, setId] = useState('')
  const [errors, setErrors] = useState<Record<string, string>>({})
  const save = useSaveTemplate()
  const prefix = useId()

  const pick = (picked: { id: string; name: string }) => {
    setModel(picked)
    setName(`${picked.name} template`)
    setId(slugify(`${picked.id} template`))
    setErrors({})
  }

  const create = async () => {
    if (!model) return
    setErrors({})
    try {
      const template = await save.mutateAsync({ create: { id: id.trim(), name, from_model_id: model.id } })
      notify(`Created ${template.name} from ${model.name}.`, 'success')
      navigate(`/workspace/templates/edit?id=${encodeURIComponent(template.id)}`)
    } catch (error) {
      const { fields, rest } = placeTemplateError(error, true)
      const next: Record<string, string> = {}
      for (const [field, message] of fields) next[field === 'id' || field === 'name' ? field : 'rest'] = message
      if (rest.length > 0 || fields.some(([field]) => field !== 'id' && field !== 'name')) {
        next['rest'] = [...rest, ...(next['rest'] ? [next['rest']] : [])].join('; ')
      }
      if (Object.keys(next).length === 0) next['rest'] = describeError(error).detail
      setErrors(next)
    }
  }

  return (
    <Dialog
      title="Create a template from a model"
      size="large"
      onClose={onClose}
      description="Its base model, parameters and meta are copied (and its access, when you may edit the model). You can change everything afterwards."
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="button button-primary" disabled={!model || save.isPending} onClick={() => void create()}>
            {save.isPending ? 'Creating…' : 'Create template'}
          </button>
        </>
      }
    >
      <div className="form">
        <div className="field">
          <label htmlFor={`${prefix}-search`}>Find a model</label>
          <input id={`${prefix}-search`} type="search" placeholder="Name, id or base model" value={text} onChange={(event) => setText(event.target.value)} />
        </div>
        {models.isPending ? (
          <Loading label="Loading models…" />
        ) : models.error ? (
          <InlineError>{describeError(models.error).detail}</InlineError>
        ) : (models.data?.items.length ?? 0) === 0 ? (
          <p className="muted">No model matches.</p>
        ) : (
          <ul className="pick-list" aria-label="Matching models">
            {models.data?.items.map((item) => (
              <li key={item.id} className={model?.id === item.id ? 'is-picked' : undefined}>
                <span>
                  {item.name} <code className="muted">{item.id}</code>
                </span>
                <button
                  type="button"
                  className="button button-small"
                  aria-pressed={model?.id === item.id}
                  aria-label={`Start from ${item.name}`}
                  onClick={() => pick(item)}
                >
                  {model?.id === item.id ? 'Chosen' : 'Choose'}
                </button>
              </li>
            ))}
          </ul>
        )}
        {model ? (
          <>
            <div className="field">
              <label htmlFor={`${prefix}-name`}>Template name</label>
              <input
                id={`${prefix}-name`}
                value={name}
                aria-invalid={errors['name'] ? true : undefined}
                aria-describedby={errors['name'] ? `${prefix}-name-error` : undefined}
                onChange={(event) => setName(event.target.value)}
              />
              <InlineError id={`${prefix}-name-error`}>{errors['name']}</InlineError>
            </div>
            <div className="field">
              <label htmlFor={`${prefix}-id`}>Template id</label>
              <input
                id={`${prefix}-id`}
                className="mono"
                spellCheck={false}
                value={id}
                aria-invalid={errors['id'] ? true : undefined}
                aria-describedby={errors['id'] ? `${prefix}-id-error` : undefined}
                onChange={(event) => setId(event.target.value)}
              />
              <InlineError id={`${prefix}-id-error`}>{errors['id']}</InlineError>
            </div>
          </>
        ) : null}
        <InlineError>{errors['rest']}</InlineError>
      </div>
    </Dialog>
  )
}
