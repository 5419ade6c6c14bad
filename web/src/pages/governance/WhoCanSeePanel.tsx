/**
 * "Who can see this?" (issue #13 part 3), a tab of the model editor, so only for callers who may write
 * the model (the editor refuses others; the server refuses them these routes too). It lists everyone
 * who can use the model with the reasons the server gives (`GET …/access/effective`), and explains one
 * user's access, refusals included (`GET …/access/explain`). The phrases are reasons.ts'; the decisions
 * are the server's (src/access), never re-derived here.
 */
import { useId, useState } from 'react'
import { describeError, type AccessExplanation, type AccessReason } from '../../api/client'
import { Pagination } from '../../components/Pagination'
import { Empty, ErrorState, Loading } from '../../components/States'
import { useAccessExplanation, useEffectiveAccess } from '../../lib/queries'
import { useUser } from '../../lib/session'
import { UserPicker } from '../AccessDialog'
import { reasonLines } from './reasons'

const PAGE_SIZE = 20

export function WhoCanSeePanel({ modelId, modelName }: { modelId: string; modelName: string }) {
  const [page, setPage] = useState(1)
  const effective = useEffectiveAccess(modelId, page, PAGE_SIZE)
  const [checked, setChecked] = useState('')
  const data = effective.data

  return (
    <div className="who-can-see">
      <section aria-labelledby="who-list-title">
        <h2 id="who-list-title">Who can use {modelName}</h2>
        {effective.error && !data ? (
          <ErrorState error={effective.error} title="Who can see this model could not be loaded" onRetry={() => void effective.refetch()} />
        ) : !data ? (
          <Loading label="Loading who can see this model…" />
        ) : data.total === 0 ? (
          <Empty title="Nobody but you">No account can use this model through a grant.</Empty>
        ) : (
          <>
            <p className="hint" data-testid="who-total">
              {data.total === 1 ? '1 account can use this model.' : `${data.total} accounts can use this model.`} Pending accounts use nothing and are not
              listed.
            </p>
            <div className="table-scroll" aria-busy={effective.isFetching}>
              <table className="table table-flow who-table">
                <caption className="visually-hidden">Who can see {modelName}</caption>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Can</th>
                    <th scope="col">Why</th>
                    <th scope="col">
                      <span className="visually-hidden">Explain</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((item) => (
                    <tr key={item.user_id} data-user-id={item.user_id}>
                      <td data-label="User" className="who-user">
                        <strong>{item.name}</strong>
                        {item.role === 'admin' ? <span className="badge">admin</span> : null}
                        <span className="muted who-email">{item.email}</span>
                      </td>
                      <td data-label="Can">{item.write ? 'Use and edit' : 'Use'}</td>
                      <td data-label="Why">
                        <Reasons reasons={item.reasons} />
                      </td>
                      <td className="actions">
                        <button type="button" className="button button-small" aria-label={`Explain ${item.name}`} onClick={() => setChecked(item.user_id)}>
                          Explain
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} label="Pages of who can see this" />
          </>
        )}
      </section>

      <CheckUser modelId={modelId} modelName={modelName} checked={checked} onCheck={setChecked} />
    </div>
  )
}

function Reasons({ reasons }: { reasons: readonly AccessReason[] }) {
  return (
    <ul className="reason-list">
      {reasonLines(reasons).map((line) => (
        <li key={line.key} className={line.missing ? 'reason reason-missing' : 'reason'}>
          {line.text}
        </li>
      ))}
    </ul>
  )
}

/**
 * Explains any account. Admins search accounts by name or email (the users API is theirs); others cannot
 * list accounts, so they pick from the list above (Explain) or type an id.
 */
function CheckUser({ modelId, modelName, checked, onCheck }: { modelId: string; modelName: string; checked: string; onCheck: (id: string) => void }) {
  const user = useUser()
  const isAdmin = user.role === 'admin'
  const [typed, setTyped] = useState('')
  const inputId = useId()
  const explanation = useAccessExplanation(modelId, checked)

  return (
    <section className="check-user" aria-labelledby="check-user-title">
      <h2 id="check-user-title">Check a user</h2>
      <p className="hint">Why can (or can&apos;t) someone use {modelName}? Pick an account to see the server&apos;s reasons, including what is missing.</p>
      <div className="check-user-pickers">
        {isAdmin ? <UserPicker exclude={[]} label="Find a user" verb="Check" onAdd={(found) => onCheck(found.id)} /> : null}
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault()
            if (typed.trim()) onCheck(typed.trim())
          }}
        >
          <label htmlFor={inputId}>User id</label>
          <input id={inputId} value={typed} onChange={(event) => setTyped(event.target.value)} placeholder="user id" autoComplete="off" />
          <button type="submit" className="button" disabled={!typed.trim()}>
            Check
          </button>
        </form>
      </div>
      {checked === '' ? null : explanation.error ? (
        <ErrorState error={explanation.error} title={`Could not explain ${checked}: ${describeError(explanation.error).detail}`} />
      ) : !explanation.data ? (
        <Loading label="Asking the server…" />
      ) : (
        <Explanation answer={explanation.data} />
      )}
    </section>
  )
}

const DECISIONS: { key: 'read' | 'write' | 'share'; label: string }[] = [
  { key: 'read', label: 'Use (read)' },
  { key: 'write', label: 'Edit (write)' },
  { key: 'share', label: 'Share' },
]

function Explanation({ answer }: { answer: AccessExplanation }) {
  return (
    <div className="explanation" data-testid="explanation" aria-live="polite">
      <h3>
        {answer.user.name} <span className="muted">({answer.user.role})</span>
      </h3>
      <dl className="explanation-list">
        {DECISIONS.map(({ key, label }) => {
          const decision = answer[key]
          return (
            <div key={key} className={decision.allowed ? 'is-allowed' : 'is-refused'} data-decision={key}>
              <dt>{label}</dt>
              <dd>
                <span className={`badge ${decision.allowed ? 'badge-success' : 'badge-danger'}`}>{decision.allowed ? 'Allowed' : 'Refused'}</span>
                <Reasons reasons={decision.reasons} />
              </dd>
            </div>
          )
        })}
      </dl>
    </div>
  )
}
