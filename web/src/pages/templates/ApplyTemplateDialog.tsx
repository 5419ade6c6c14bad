/**
 * "Apply to models…": choose the models (a filter the server resolves to the models you may write, or
 * models picked one by one) and the mode (merge or replace); a dry run then shows, per model, the diff
 * the template would make (the history diff table), the models refused with the server's reason and
 * those unchanged; Apply runs it for real and shows what happened, with the version each model got.
 * Every decision is the server's (`POST /templates/template/apply`); the dialog builds the body (apply.ts).
 */
import { useId, useState } from 'react'
import { describeError, type Template, type TemplateApplyReport } from '../../api/client'
import { ChipsInput } from '../../components/ChipsInput'
import { Dialog } from '../../components/Dialog'
import { InlineError, Loading } from '../../components/States'
import { abilitiesOf } from '../../lib/abilities'
import { useDebounced } from '../../lib/hooks'
import { useApplyTemplate, useGroups, useModelList, useModelTags, useUserNames } from '../../lib/queries'
import { useUser } from '../../lib/session'
import { reportSummary } from '../governance/bulk'
import { DiffTable, type PrincipalNamer } from '../history/DiffTable'
import { applyBody, emptyApplyDraft, grantPrincipals, principalNamer, type ApplyDraft } from './apply'

type Step = { kind: 'edit' } | { kind: 'preview'; report: TemplateApplyReport } | { kind: 'done'; report: TemplateApplyReport }

/** Diffs of more models than this start folded in the preview (each one opens on a click). */
const OPEN_DIFFS = 5

export function ApplyTemplateDialog({ template, onClose }: { template: Template; onClose: () => void }) {
  const [draft, setDraft] = useState<ApplyDraft>(emptyApplyDraft)
  const [step, setStep] = useState<Step>({ kind: 'edit' })
  const [error, setError] = useState<string | null>(null)
  const apply = useApplyTemplate()
  const names = new Map(draft.ids)

  const run = async (dryRun: boolean) => {
    setError(null)
    const built = applyBody(template.id, draft, dryRun)
    if ('problem' in built) {
      setError(built.problem)
      return
    }
    try {
      const report = await apply.mutateAsync(built.body)
      setStep(dryRun ? { kind: 'preview', report } : { kind: 'done', report })
    } catch (failure) {
      const { detail, code } = describeError(failure)
      setError(`${detail} (${code})`)
    }
  }

  const footer =
    step.kind === 'edit' ? (
      <>
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button button-primary" disabled={apply.isPending} onClick={() => void run(true)}>
          {apply.isPending ? 'Checking…' : 'Preview changes'}
        </button>
      </>
    ) : step.kind === 'preview' ? (
      <>
        <button type="button" className="button" disabled={apply.isPending} onClick={() => setStep({ kind: 'edit' })}>
          Back
        </button>
        <button type="button" className="button button-primary" disabled={apply.isPending || step.report.changed.length === 0} onClick={() => void run(false)}>
          {apply.isPending
            ? 'Applying…'
            : step.report.changed.length === 0
              ? 'Nothing to apply'
              : `Apply to ${step.report.changed.length === 1 ? '1 model' : `${step.report.changed.length} models`}`}
        </button>
      </>
    ) : (
      <button type="button" className="button button-primary" onClick={onClose}>
        Done
      </button>
    )

  return (
    <Dialog
      title={
        step.kind === 'done' ? `Applied ${template.name}` : step.kind === 'preview' ? `Preview: apply ${template.name}` : `Apply ${template.name} to models`
      }
      size="large"
      onClose={onClose}
      description={
        step.kind === 'edit'
          ? 'Choose the models and how the template applies. Nothing changes until you apply the preview.'
          : step.kind === 'preview'
            ? `Nothing has changed yet. ${reportSummary(step.report, false)}.`
            : 'What the server did (the models may have changed since the preview).'
      }
      footer={footer}
    >
      {step.kind === 'edit' ? (
        <ApplyForm templateId={template.id} draft={draft} onDraft={setDraft} />
      ) : (
        <ApplyReport report={step.report} names={names} done={step.kind === 'done'} />
      )}
      {apply.isPending ? <Loading label={step.kind === 'preview' ? 'Applying…' : 'Asking the server for the plan…'} /> : null}
      <InlineError>{error}</InlineError>
    </Dialog>
  )
}

function ApplyForm({ templateId, draft, onDraft }: { templateId: string; draft: ApplyDraft; onDraft: (draft: ApplyDraft) => void }) {
  const user = useUser()
  const tags = useModelTags()
  const prefix = useId()
  const setFilter = (key: keyof ApplyDraft['filter'], value: string) => onDraft({ ...draft, filter: { ...draft.filter, [key]: value } })
  return (
    <div className="form apply-form">
      <fieldset className="fieldset">
        <legend>Which models</legend>
        <label className="radio">
          <input type="radio" name={`${prefix}-by`} checked={draft.by === 'filter'} onChange={() => onDraft({ ...draft, by: 'filter' })} />
          <span>
            <strong>By filter</strong>
            <span className="hint">Every model you may edit that matches (the server picks them when you preview and again when you apply).</span>
          </span>
        </label>
        <label className="radio">
          <input type="radio" name={`${prefix}-by`} checked={draft.by === 'ids'} onChange={() => onDraft({ ...draft, by: 'ids' })} />
          <span>
            <strong>Chosen models</strong>
            <span className="hint">Pick them one by one.</span>
          </span>
        </label>
      </fieldset>

      {draft.by === 'filter' ? (
        <div className="apply-filter">
          <label className="checkbox apply-follow">
            <input
              type="checkbox"
              checked={draft.filter.template_id !== ''}
              onChange={(event) => setFilter('template_id', event.target.checked ? templateId : '')}
            />
            <span>
              <strong>Models that follow this template</strong>
              <span className="hint"> Re-apply it to the models made from it or last applied from it (the drifted ones change, the others stay).</span>
            </span>
          </label>
          <div className="field">
            <label htmlFor={`${prefix}-query`}>Search</label>
            <input
              id={`${prefix}-query`}
              type="search"
              placeholder="Name, id, base model or owner"
              value={draft.filter.query}
              onChange={(event) => setFilter('query', event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${prefix}-tag`}>Tag</label>
            <select id={`${prefix}-tag`} value={draft.filter.tag} onChange={(event) => setFilter('tag', event.target.value)}>
              <option value="">Any tag</option>
              {(tags.data ?? []).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${prefix}-base`}>Base model</label>
            <input
              id={`${prefix}-base`}
              className="mono"
              placeholder="any"
              value={draft.filter.base_model_id}
              onChange={(event) => setFilter('base_model_id', event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${prefix}-owner`}>Owner (account id)</label>
            <div className="input-group">
              <input
                id={`${prefix}-owner`}
                className="mono"
                placeholder="anyone"
                value={draft.filter.user_id}
                onChange={(event) => setFilter('user_id', event.target.value)}
              />
              <button type="button" className="button" onClick={() => setFilter('user_id', user.id)}>
                Me
              </button>
            </div>
          </div>
        </div>
      ) : (
        <ModelChooser chosen={draft.ids} onChosen={(ids) => onDraft({ ...draft, ids })} />
      )}

      <fieldset className="fieldset">
        <legend>Mode</legend>
        <label className="radio">
          <input type="radio" name={`${prefix}-mode`} checked={draft.mode === 'merge'} onChange={() => onDraft({ ...draft, mode: 'merge' })} />
          <span>
            <strong>Merge</strong>
            <span className="hint">The template&apos;s parameters and meta win key by key, tags are added, its grants are added.</span>
          </span>
        </label>
        <label className="radio">
          <input type="radio" name={`${prefix}-mode`} checked={draft.mode === 'replace'} onChange={() => onDraft({ ...draft, mode: 'replace' })} />
          <span>
            <strong>Replace</strong>
            <span className="hint">Each section the template holds replaces the model&apos;s (parameters, meta, base model, access).</span>
          </span>
        </label>
      </fieldset>
    </div>
  )
}

/** Models picked one by one: a search over the models list; only models you may edit can be picked. */
function ModelChooser({ chosen, onChosen }: { chosen: ReadonlyMap<string, string>; onChosen: (ids: ReadonlyMap<string, string>) => void }) {
  const [text, setText] = useState('')
  const query = useDebounced(text.trim(), 300)
  const models = useModelList({ query, page: 1, limit: 10, order_by: 'name', direction: 'asc' })
  const id = useId()
  const writable = (models.data?.items ?? []).filter((model) => abilitiesOf(model).write)
  const set = (modelId: string, name: string, on: boolean) => {
    const next = new Map(chosen)
    if (on) next.set(modelId, name)
    else next.delete(modelId)
    onChosen(next)
  }
  return (
    <div className="apply-chooser">
      <div className="field">
        <label htmlFor={`${id}-chosen`}>Chosen models</label>
        <ChipsInput
          id={`${id}-chosen`}
          noun="model"
          values={[...chosen.keys()]}
          placeholder="Type a model id, then Enter"
          onChange={(ids) => onChosen(new Map(ids.map((modelId) => [modelId, chosen.get(modelId) ?? modelId])))}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-search`}>Find models</label>
        <input id={`${id}-search`} type="search" placeholder="Name, id or base model" value={text} onChange={(event) => setText(event.target.value)} />
      </div>
      {models.isPending ? (
        <Loading label="Loading models…" />
      ) : writable.length === 0 ? (
        <p className="muted">No model you may edit matches.</p>
      ) : (
        <ul className="pick-list" aria-label="Models you may edit">
          {writable.map((model) => (
            <li key={model.id}>
              <label className="checkbox">
                <input type="checkbox" checked={chosen.has(model.id)} onChange={(event) => set(model.id, model.name, event.target.checked)} />
                {model.name} <code className="muted">{model.id}</code>
              </label>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

/**
 * Names for the groups and accounts that access changes name, as far as the caller may read them: groups
 * through the groups API (admins every group, others their own), accounts through the users API (admins
 * only) and the caller; the id otherwise.
 */
export function usePrincipalNames(changes: readonly { path: string }[]): PrincipalNamer {
  const self = useUser()
  const principals = grantPrincipals(changes)
  const groups = useGroups(principals.groups.length > 0)
  const userIds = principals.users.filter((id) => id !== self.id)
  const accounts = useUserNames(userIds, self.role === 'admin')
  const users = new Map(userIds.flatMap((id, index) => (accounts[index]?.data ? [[id, accounts[index].data.name] as const] : [])))
  return principalNamer({ groups: groups.data ?? [], users, self })
}

/** The plan (dry run) or the outcome: per changed model its diff, then refused and unchanged. */
function ApplyReport({ report, names, done }: { report: TemplateApplyReport; names: ReadonlyMap<string, string>; done: boolean }) {
  const nameOf = (id: string) => names.get(id) ?? id
  const principalName = usePrincipalNames(report.changed.flatMap((item) => item.changes))
  return (
    <div className="bulk-report" data-testid={done ? 'apply-result' : 'apply-preview'}>
      {done ? (
        <p className="success-text" role="status">
          {reportSummary(report, true)}. Each changed model has a new version in its History.
        </p>
      ) : null}
      <section className="report-section">
        <h3>
          {done ? 'Changed' : 'Will change'} <span className="count">{report.changed.length}</span>
        </h3>
        {report.changed.length === 0 ? (
          <p className="muted">No model {done ? 'changed' : 'would change'}.</p>
        ) : (
          <ul className="apply-changes">
            {report.changed.map((item, index) => (
              <li key={item.id} data-apply-model={item.id}>
                <details open={!done && (report.changed.length <= OPEN_DIFFS || index < 1)}>
                  <summary>
                    <strong>{nameOf(item.id)}</strong> {names.has(item.id) ? <code className="muted">{item.id}</code> : null}{' '}
                    <span className="muted">{item.changes.length === 1 ? '1 change' : `${item.changes.length} changes`}</span>
                    {item.version !== null ? (
                      <span className="badge" data-testid="applied-version">
                        version {item.version}
                      </span>
                    ) : null}
                  </summary>
                  <DiffTable
                    changes={item.changes}
                    fromLabel={done ? 'Before' : 'Now'}
                    toLabel={done ? 'After' : 'After applying'}
                    caption={`Changes to ${nameOf(item.id)}`}
                    nameOf={principalName}
                  />
                </details>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className={`report-section${report.refused.length > 0 ? ' report-error' : ''}`}>
        <h3>
          Refused <span className="count">{report.refused.length}</span>
        </h3>
        {report.refused.length === 0 ? (
          <p className="muted">No model was refused.</p>
        ) : (
          <ul>
            {report.refused.map((item) => (
              <li key={item.id} data-apply-refused={item.id}>
                <strong>{nameOf(item.id)}</strong> {names.has(item.id) ? <code>{item.id}</code> : null}: {item.reason}{' '}
                <span className="muted">({item.code})</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="report-section">
        <h3>
          Unchanged <span className="count">{report.unchanged.length}</span>
        </h3>
        {report.unchanged.length === 0 ? (
          <p className="muted">No model is already in line with the template.</p>
        ) : (
          <p>
            {report.unchanged.map((id, index) => (
              <span key={id} data-apply-unchanged={id}>
                {index > 0 ? ', ' : ''}
                {nameOf(id)}
              </span>
            ))}{' '}
            <span className="muted">{report.unchanged.length === 1 ? 'is' : 'are'} already in line with the template.</span>
          </p>
        )}
      </section>
    </div>
  )
}
