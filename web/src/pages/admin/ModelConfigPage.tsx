/**
 * Admin › Model settings: Open WebUI's model configuration (`/api/v1/configs/models`): the order of the
 * runtime list (Move up / Move down buttons), the models new chats start with and those pinned for
 * everyone, and the meta and params every new preset starts from (JSON). The server validates; its
 * errors are shown as they come (docs/web.md, "Model settings").
 */
import { useMemo, useState } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { describeError, getModelsConfig, listRuntimeModels, setModelsConfig, type ModelsConfig } from '../../api/client'
import { ErrorState, InlineError, Loading } from '../../components/States'
import { notify } from '../../lib/notify'

const CONFIG_KEY = ['configs', 'models'] as const
const RUNTIME_KEY = ['models', 'runtime', 'config-page'] as const

const idsOf = (list: string | null): string[] =>
  (list ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '')

const json = (value: Record<string, unknown> | null): string => (value && Object.keys(value).length > 0 ? JSON.stringify(value, null, 2) : '')

/** A JSON object typed in a text area: null when empty, an error message when it is not an object. */
function parseObject(text: string): { value: Record<string, unknown> | null } | { error: string } {
  if (text.trim() === '') return { value: null }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'must be a JSON object, like {"temperature": 0.7}' }
    return { value: value as Record<string, unknown> }
  } catch (error) {
    return { error: `is not valid JSON (${(error as Error).message})` }
  }
}

export function ModelConfigPage() {
  const config = useQuery({ queryKey: CONFIG_KEY, queryFn: getModelsConfig })
  const runtime = useQuery({ queryKey: RUNTIME_KEY, queryFn: listRuntimeModels })
  if (config.isPending || runtime.isPending) return <Loading label="Loading model settings…" />
  if (config.isError) return <ErrorState error={config.error} title="Could not load the model settings" onRetry={() => void config.refetch()} />
  if (runtime.isError) return <ErrorState error={runtime.error} title="Could not load the models" onRetry={() => void runtime.refetch()} />
  return <ModelConfigForm config={config.data} models={runtime.data.data.map((m) => ({ id: m.id, name: m.name }))} />
}

function ModelConfigForm({ config, models }: { config: ModelsConfig; models: { id: string; name: string }[] }) {
  const client = useQueryClient()
  const names = useMemo(() => new Map(models.map((m) => [m.id, m.name])), [models])
  // The list as the runtime answers it is already in the configured order.
  const [order, setOrder] = useState<string[]>(() => models.map((m) => m.id))
  const [customOrder, setCustomOrder] = useState((config.MODEL_ORDER_LIST ?? []).length > 0)
  const [defaults, setDefaults] = useState(() => new Set(idsOf(config.DEFAULT_MODELS)))
  const [pinned, setPinned] = useState(() => new Set(idsOf(config.DEFAULT_PINNED_MODELS)))
  const [metaText, setMetaText] = useState(() => json(config.DEFAULT_MODEL_METADATA))
  const [paramsText, setParamsText] = useState(() => json(config.DEFAULT_MODEL_PARAMS))
  const [errors, setErrors] = useState<{ meta?: string; params?: string; server?: string }>({})

  const save = useMutation({
    mutationFn: setModelsConfig,
    onSuccess: (saved) => {
      client.setQueryData(CONFIG_KEY, saved)
      void client.invalidateQueries({ queryKey: ['models'] })
    },
  })

  const move = (index: number, by: -1 | 1) => {
    const next = [...order]
    const [item] = next.splice(index, 1)
    if (item === undefined) return
    next.splice(index + by, 0, item)
    setOrder(next)
    setCustomOrder(true)
  }
  const toggle = (set: Set<string>, update: (s: Set<string>) => void, id: string, on: boolean) => {
    const next = new Set(set)
    if (on) next.add(id)
    else next.delete(id)
    update(next)
  }
  // Ids the config names that the admin's list does not hold (no longer served) are kept.
  const keep = (ids: Set<string>) => [...idsOf(config.DEFAULT_MODELS), ...idsOf(config.DEFAULT_PINNED_MODELS)].filter((id) => ids.has(id) && !names.has(id))

  const submit = async () => {
    const meta = parseObject(metaText)
    const params = parseObject(paramsText)
    const found = { ...('error' in meta && { meta: meta.error }), ...('error' in params && { params: params.error }) }
    setErrors(found)
    if ('error' in meta || 'error' in params) return
    const listed = (ids: Set<string>) => {
      const all = [...order.filter((id) => ids.has(id)), ...keep(ids)]
      return all.length > 0 ? [...new Set(all)].join(',') : null
    }
    try {
      await save.mutateAsync({
        DEFAULT_MODELS: listed(defaults),
        DEFAULT_PINNED_MODELS: listed(pinned),
        MODEL_ORDER_LIST: customOrder ? order : null,
        DEFAULT_MODEL_METADATA: meta.value,
        DEFAULT_MODEL_PARAMS: params.value,
      })
      notify('Model settings saved.', 'success')
    } catch (error) {
      const { detail } = describeError(error)
      setErrors({ server: detail })
      notify(`Could not save the model settings: ${detail}`, 'error')
    }
  }

  return (
    <section className="page model-config">
      <div className="page-header">
        <h1 tabIndex={-1}>Model settings</h1>
      </div>
      <p className="hint">
        The order of the model list every client gets (<code>/api/models</code>, <code>/v1/models</code>), the models new chats start with, the models pinned
        for everyone, and what every new preset starts from. Users only ever see models they may use.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          void submit()
        }}
      >
        <fieldset className="config-section">
          <legend>Order, default and pinned models</legend>
          <p className="hint" id="order-hint">
            {customOrder ? 'Custom order: the models below come first in this order.' : 'No custom order: the list keeps the providers’ order.'}{' '}
            {customOrder ? (
              <button
                type="button"
                className="button button-small"
                onClick={() => {
                  setCustomOrder(false)
                  setOrder(models.map((m) => m.id))
                }}
              >
                Reset order
              </button>
            ) : null}
          </p>
          {order.length === 0 ? <p className="hint">No models are served yet.</p> : null}
          <ol className="config-order" aria-describedby="order-hint">
            {order.map((id, index) => {
              const name = names.get(id) ?? id
              return (
                <li key={id} className="config-row">
                  <span className="config-position" aria-hidden="true">
                    {index + 1}
                  </span>
                  <span className="config-model">
                    <span className="config-name">{name}</span>
                    {name !== id ? <code className="config-id">{id}</code> : null}
                  </span>
                  <label className="config-check">
                    <input type="checkbox" checked={defaults.has(id)} onChange={(e) => toggle(defaults, setDefaults, id, e.target.checked)} />
                    Default
                  </label>
                  <label className="config-check">
                    <input type="checkbox" checked={pinned.has(id)} onChange={(e) => toggle(pinned, setPinned, id, e.target.checked)} />
                    Pinned
                  </label>
                  <span className="config-move">
                    <button type="button" className="button button-small" aria-label={`Move ${name} up`} disabled={index === 0} onClick={() => move(index, -1)}>
                      ↑
                    </button>
                    <button
                      type="button"
                      className="button button-small"
                      aria-label={`Move ${name} down`}
                      disabled={index === order.length - 1}
                      onClick={() => move(index, 1)}
                    >
                      ↓
                    </button>
                  </span>
                </li>
              )
            })}
          </ol>
        </fieldset>

        <fieldset className="config-section">
          <legend>What new presets start from</legend>
          <p className="hint" id="defaults-hint">
            JSON objects. A new preset gets every key it does not set itself (its own values, then its template’s, win). Empty: nothing.
          </p>
          <label className="field">
            <span className="field-label">Default params</span>
            <textarea
              className="input mono"
              rows={5}
              value={paramsText}
              onChange={(e) => setParamsText(e.target.value)}
              placeholder='{"temperature": 0.7, "max_tokens": -1}'
              aria-describedby="defaults-hint"
              aria-invalid={errors.params ? true : undefined}
            />
          </label>
          {errors.params ? <InlineError>Default params {errors.params}</InlineError> : null}
          <label className="field">
            <span className="field-label">Default meta</span>
            <textarea
              className="input mono"
              rows={5}
              value={metaText}
              onChange={(e) => setMetaText(e.target.value)}
              placeholder='{"capabilities": {"vision": true}}'
              aria-describedby="defaults-hint"
              aria-invalid={errors.meta ? true : undefined}
            />
          </label>
          {errors.meta ? <InlineError>Default meta {errors.meta}</InlineError> : null}
        </fieldset>

        {errors.server ? <InlineError>{errors.server}</InlineError> : null}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </section>
  )
}
