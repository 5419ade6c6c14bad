/**
 * "Change access…" for the models selected on the models page (issue #13 part 2): add and remove grants
 * (groups, users, public), then a dry run shows per model what would change and which models the server
 * refuses and why, then Apply runs it for real and shows what happened. Every decision is the server's
 * (`POST /api/v1/models/access/bulk`); the dialog only builds the grants (bulk.ts).
 */
import { useId, useState } from 'react'
import { describeError, type BulkAccessReport, type Group, type PrincipalType } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { InlineError, Loading } from '../../components/States'
import { useBulkAccess, useGroups } from '../../lib/queries'
import { can as hasFeature, useUser } from '../../lib/session'
import { UserPicker } from '../AccessDialog'
import { describeChange, emptyBulkDraft, grantsToAdd, grantsToRemove, isEmptyDraft, reportSummary, type BulkDraft, type BulkEntry } from './bulk'

type Step = { kind: 'edit' } | { kind: 'preview'; report: BulkAccessReport } | { kind: 'done'; report: BulkAccessReport }

interface BulkAccessDialogProps {
  /** The selected models, id → name. */
  models: ReadonlyMap<string, string>
  onClose: () => void
  /** After a real run: the selection has done its job. */
  onApplied: () => void
}

export function BulkAccessDialog({ models, onClose, onApplied }: BulkAccessDialogProps) {
  const user = useUser()
  const isAdmin = user.role === 'admin'
  const [draft, setDraft] = useState<BulkDraft>(emptyBulkDraft)
  const [step, setStep] = useState<Step>({ kind: 'edit' })
  const [error, setError] = useState<string | null>(null)
  const bulk = useBulkAccess()
  const ids = [...models.keys()]
  // Which kinds of sharing to offer is the session's (as in the single access dialog); each model's
  // refusal is the server's answer in the preview.
  const mayPublic = isAdmin || hasFeature(user, 'sharing.public_models')
  const mayShare = isAdmin || hasFeature(user, 'sharing.models')

  const labels = new Map<string, string>()
  for (const entry of [...draft.add, ...draft.remove]) labels.set(`${entry.principal_type}:${entry.principal_id}`, entry.label)

  const run = async (dryRun: boolean) => {
    setError(null)
    try {
      const report = await bulk.mutateAsync({ model_ids: ids, add: grantsToAdd(draft), remove: grantsToRemove(draft), dry_run: dryRun })
      setStep(dryRun ? { kind: 'preview', report } : { kind: 'done', report })
      if (!dryRun) onApplied()
    } catch (failure) {
      const { detail, code } = describeError(failure)
      setError(`${detail} (${code})`)
    }
  }

  const count = ids.length === 1 ? '1 model' : `${ids.length} models`
  const footer =
    step.kind === 'edit' ? (
      <>
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button button-primary" disabled={bulk.isPending || isEmptyDraft(draft)} onClick={() => void run(true)}>
          {bulk.isPending ? 'Checking…' : 'Preview changes'}
        </button>
      </>
    ) : step.kind === 'preview' ? (
      <>
        <button type="button" className="button" disabled={bulk.isPending} onClick={() => setStep({ kind: 'edit' })}>
          Back
        </button>
        <button type="button" className="button button-primary" disabled={bulk.isPending || step.report.changed.length === 0} onClick={() => void run(false)}>
          {bulk.isPending
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
      title={step.kind === 'done' ? 'Access changed' : step.kind === 'preview' ? 'Preview: change access' : `Change access of ${count}`}
      size="large"
      onClose={onClose}
      description={
        step.kind === 'edit'
          ? 'Grants to add and to remove on every selected model. Nothing changes until you apply the preview.'
          : step.kind === 'preview'
            ? `Nothing has changed yet. ${reportSummary(step.report, false)}.`
            : 'What the server did (the models may have changed since the preview).'
      }
      footer={footer}
    >
      {step.kind === 'edit' ? (
        <div className="bulk-edit">
          <BulkSide
            title="Add"
            entries={draft.add}
            isAdmin={isAdmin}
            mayAdd={mayShare}
            levels={[
              ['read', 'Can use (read)'],
              ['write', 'Can edit (write)'],
            ]}
            publicLabel={mayPublic ? 'Make public (every signed-in user may use them)' : null}
            publicChecked={draft.addPublic}
            onPublic={(addPublic) => setDraft({ ...draft, addPublic })}
            onEntries={(add) => setDraft({ ...draft, add })}
          />
          <BulkSide
            title="Remove"
            entries={draft.remove}
            isAdmin={isAdmin}
            mayAdd
            levels={[
              ['read', 'All access (read and write)'],
              ['write', 'Edit only (write)'],
            ]}
            publicLabel="Remove public access"
            publicChecked={draft.removePublic}
            onPublic={(removePublic) => setDraft({ ...draft, removePublic })}
            onEntries={(remove) => setDraft({ ...draft, remove })}
          />
          <p className="hint">
            Selected: {ids.length <= 8 ? [...models.values()].join(', ') : `${[...models.values()].slice(0, 8).join(', ')} and ${ids.length - 8} more`}
          </p>
        </div>
      ) : (
        <BulkReport report={step.report} models={models} labels={labels} done={step.kind === 'done'} />
      )}
      {bulk.isPending ? <Loading label={step.kind === 'preview' ? 'Applying…' : 'Asking the server for the plan…'} /> : null}
      <InlineError>{error}</InlineError>
    </Dialog>
  )
}

function BulkSide({
  title,
  entries,
  isAdmin,
  mayAdd,
  levels,
  publicLabel,
  publicChecked,
  onPublic,
  onEntries,
}: {
  title: 'Add' | 'Remove'
  entries: BulkEntry[]
  isAdmin: boolean
  mayAdd: boolean
  levels: [BulkEntry['level'], string][]
  publicLabel: string | null
  publicChecked: boolean
  onPublic: (checked: boolean) => void
  onEntries: (entries: BulkEntry[]) => void
}) {
  const groups = useGroups(isAdmin)
  const headingId = useId()
  const add = (principal_type: PrincipalType, principal_id: string, label: string) => {
    if (entries.some((entry) => entry.principal_type === principal_type && entry.principal_id === principal_id)) return
    onEntries([...entries, { principal_type, principal_id, label, level: 'read' }])
  }
  const verb = title === 'Add' ? 'Grant' : 'Revoke'
  return (
    <section className="bulk-side access-section" aria-labelledby={headingId} data-bulk-side={title.toLowerCase()}>
      <h3 id={headingId}>{title}</h3>
      {publicLabel ? (
        <label className="checkbox">
          <input type="checkbox" checked={publicChecked} onChange={(event) => onPublic(event.target.checked)} />
          {publicLabel}
        </label>
      ) : (
        <p className="hint">Making models public needs the “sharing.public_models” permission.</p>
      )}
      {entries.length > 0 ? (
        <ul className="grant-list">
          {entries.map((entry) => (
            <li key={`${entry.principal_type}:${entry.principal_id}`} className="grant-row">
              <span className="grant-name" title={entry.principal_id}>
                {entry.principal_type === 'group' ? 'Group' : 'User'} {entry.label}
              </span>
              <select
                aria-label={`${title}: what for ${entry.principal_type} ${entry.label}`}
                value={entry.level}
                onChange={(event) => onEntries(entries.map((item) => (item === entry ? { ...item, level: event.target.value as BulkEntry['level'] } : item)))}
              >
                {levels.map(([level, label]) => (
                  <option key={level} value={level}>
                    {label}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="button button-small"
                aria-label={`${title}: drop ${entry.principal_type} ${entry.label}`}
                onClick={() => onEntries(entries.filter((item) => item !== entry))}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {!mayAdd ? (
        <p className="hint">Adding groups or users needs the “sharing.models” permission.</p>
      ) : isAdmin ? (
        <>
          {groups.isPending ? (
            <Loading label="Loading groups…" />
          ) : groups.error ? (
            <InlineError>Groups could not be loaded: {describeError(groups.error).detail}</InlineError>
          ) : (
            <GroupChooser
              label={`${title}: a group`}
              verb={verb}
              groups={(groups.data ?? []).filter((group) => !entries.some((entry) => entry.principal_type === 'group' && entry.principal_id === group.id))}
              onPick={(group) => add('group', group.id, group.name)}
            />
          )}
          <UserPicker
            exclude={entries.filter((entry) => entry.principal_type === 'user').map((entry) => entry.principal_id)}
            label={`${title}: a user`}
            verb={verb}
            onAdd={(found) => add('user', found.id, found.name)}
          />
        </>
      ) : (
        <ById title={title} verb={verb} onPick={(type, id) => add(type, id, id)} />
      )}
    </section>
  )
}

function GroupChooser({ label, verb, groups, onPick }: { label: string; verb: string; groups: Group[]; onPick: (group: Group) => void }) {
  const [selected, setSelected] = useState('')
  const id = useId()
  if (groups.length === 0) return <p className="hint">Every group is listed, or none exists yet (Admin › Groups).</p>
  return (
    <div className="inline-form">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={selected} onChange={(event) => setSelected(event.target.value)}>
        <option value="">Choose a group…</option>
        {groups.map((group) => (
          <option key={group.id} value={group.id}>
            {group.name}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="button"
        disabled={!selected}
        onClick={() => {
          const group = groups.find((item) => item.id === selected)
          if (group) onPick(group)
          setSelected('')
        }}
      >
        {verb} group
      </button>
    </div>
  )
}

/** Non-admins cannot list groups or users: they name them by id. */
function ById({ title, verb, onPick }: { title: string; verb: string; onPick: (type: PrincipalType, id: string) => void }) {
  const [type, setType] = useState<PrincipalType>('group')
  const [value, setValue] = useState('')
  const id = useId()
  return (
    <div className="inline-form">
      <label htmlFor={id}>{title}: a group or user by id</label>
      <select aria-label={`${title}: kind`} value={type} onChange={(event) => setType(event.target.value as PrincipalType)}>
        <option value="group">Group</option>
        <option value="user">User</option>
      </select>
      <input id={id} value={value} onChange={(event) => setValue(event.target.value)} placeholder={`${type} id`} />
      <button
        type="button"
        className="button"
        disabled={!value.trim()}
        onClick={() => {
          onPick(type, value.trim())
          setValue('')
        }}
      >
        {verb}
      </button>
    </div>
  )
}

/** The plan (dry run) or the outcome: one row per changed model with its changes, then refused and unchanged. */
function BulkReport({
  report,
  models,
  labels,
  done,
}: {
  report: BulkAccessReport
  models: ReadonlyMap<string, string>
  labels: ReadonlyMap<string, string>
  done: boolean
}) {
  const nameOf = (id: string) => models.get(id) ?? id
  return (
    <div className="bulk-report" data-testid={done ? 'bulk-result' : 'bulk-preview'}>
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
          <p className="muted">No selected model {done ? 'changed' : 'would change'}.</p>
        ) : (
          <div className="table-scroll">
            <table className="table table-compact table-flow bulk-table">
              <caption className="visually-hidden">{done ? 'Models changed' : 'Planned changes per model'}</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Changes</th>
                </tr>
              </thead>
              <tbody>
                {report.changed.map((item) => (
                  <tr key={item.id} data-bulk-model={item.id}>
                    <td data-label="Model">
                      <strong>{nameOf(item.id)}</strong> <code className="muted">{item.id}</code>
                      {item.version !== null ? <span className="badge">version {item.version}</span> : null}
                    </td>
                    <td data-label="Changes">
                      <ul className="change-list">
                        {item.changes.map((change) => (
                          <li key={`${change.path}:${change.op}`} className={`diff-${change.op}`} data-path={change.path}>
                            <span className={`badge diff-badge diff-badge-${change.op}`}>{change.op}</span> {describeChange(change.path, labels)}
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
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
              <li key={item.id} data-bulk-refused={item.id}>
                <strong>{nameOf(item.id)}</strong> <code>{item.id}</code>: {item.reason} <span className="muted">({item.code})</span>
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
          <p className="muted">Every other model changes.</p>
        ) : (
          <p>
            {report.unchanged.map((id, index) => (
              <span key={id} data-bulk-unchanged={id}>
                {index > 0 ? ', ' : ''}
                {nameOf(id)}
              </span>
            ))}{' '}
            <span className="muted">{done ? 'already had' : report.unchanged.length === 1 ? 'already has' : 'already have'} this access.</span>
          </p>
        )}
      </section>
    </div>
  )
}
