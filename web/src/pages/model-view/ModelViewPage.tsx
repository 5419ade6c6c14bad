/**
 * `/workspace/models/view?id=` (issue #16 item 3): a model as someone who may use it reads it — what it is
 * for, its system prompt, parameters, capabilities, base model and who shared it — with *Try it*. Anyone
 * who can read the model gets this page (the server answers 404 otherwise); writers also get *Edit*.
 */
import { Avatar } from '../../components/Avatar'
import { ErrorState, Loading } from '../../components/States'
import { abilitiesOf } from '../../lib/abilities'
import { accessWord } from '../../lib/access'
import { formatDate } from '../../lib/format'
import { useModel } from '../../lib/queries'
import { Link, useLocation } from '../../lib/router'
import { useUser } from '../../lib/session'
import { modelImageUrl } from '../../api/client'
import { TryItPanel } from '../try-it/TryItPanel'
import { viewOf } from './view'

export function ModelViewPage() {
  const { search } = useLocation()
  const id = search.get('id') ?? ''
  const user = useUser()
  const model = useModel(id)

  if (model.error) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>Model</h1>
        <ErrorState error={model.error} title="This model could not be loaded" onRetry={() => void model.refetch()} />
        <Link to="/workspace/models">Back to the models</Link>
      </section>
    )
  }
  if (!model.data) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>Model</h1>
        <Loading label="Loading the model…" />
      </section>
    )
  }
  const data = model.data
  const view = viewOf(data)
  const can = abilitiesOf(data)
  const owner = data.user ? (data.user.id === user.id ? `${data.user.name} (you)` : data.user.name) : 'Deleted user'
  return (
    <section className="page page-narrow model-view">
      <p className="breadcrumb">
        <Link to="/workspace/models">‹ Models</Link>
      </p>
      <div className="model-view-head">
        <Avatar src={modelImageUrl(data.id, data.updated_at)} size={64} alt="" />
        <div className="model-card-title">
          <h1 tabIndex={-1}>{data.name}</h1>
          <p className="model-id">
            <code>{data.id}</code>
          </p>
        </div>
        {can.write ? (
          <Link className="button" to={`/workspace/models/edit?id=${encodeURIComponent(data.id)}`}>
            Edit
          </Link>
        ) : (
          <span className="badge badge-readonly">Read only</span>
        )}
      </div>
      {data.status && !data.status.ok ? (
        <p className="status-warning status-warning-block" role="note" data-testid="status-warning">
          ⚠ This model cannot be used now: {data.status.reason ?? 'its base model is not available.'}
        </p>
      ) : null}
      {view.description ? <p className="model-view-description">{view.description}</p> : <p className="muted">No description.</p>}

      <dl className="model-facts model-view-facts">
        <div>
          <dt>Shared by</dt>
          <dd data-testid="model-owner">
            <Avatar src={null} size={20} /> {owner}
          </dd>
        </div>
        <div>
          <dt>Base model</dt>
          <dd>{data.base_model_id ? <code>{data.base_model_id}</code> : 'The provider model itself'}</dd>
        </div>
        <div>
          <dt>Access</dt>
          <dd>{accessWord(data.access_grants)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>{formatDate(data.updated_at)}</dd>
        </div>
        {view.tags.length > 0 ? (
          <div>
            <dt>Tags</dt>
            <dd>
              {view.tags.map((tag) => (
                <span key={tag} className="badge badge-tag">
                  {tag}
                </span>
              ))}
            </dd>
          </div>
        ) : null}
      </dl>

      <section className="panel" aria-labelledby="model-view-system">
        <h2 id="model-view-system">System prompt</h2>
        {view.system ? (
          <pre className="model-view-system" data-testid="model-system-prompt">
            {view.system}
          </pre>
        ) : (
          <p className="muted">None: the base model’s own behaviour.</p>
        )}
      </section>

      <section className="panel" aria-labelledby="model-view-params">
        <h2 id="model-view-params">Parameters</h2>
        {view.params.length > 0 ? (
          <dl className="model-facts" data-testid="model-params">
            {view.params.map(([key, value]) => (
              <div key={key}>
                <dt>
                  <code>{key}</code>
                </dt>
                <dd>
                  <code>{value}</code>
                  {view.locked.includes(key) ? <span className="badge">locked</span> : null}
                </dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="muted">None set: the base model’s defaults.</p>
        )}
      </section>

      <section className="panel" aria-labelledby="model-view-capabilities">
        <h2 id="model-view-capabilities">Capabilities</h2>
        {view.capabilities.length > 0 ? (
          <ul className="capability-list">
            {view.capabilities.map(([label, on]) => (
              <li key={label} className={on ? '' : 'muted'}>
                {on ? '✓' : '✗'} {label}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">None declared.</p>
        )}
      </section>

      <TryItPanel modelId={data.id} />
    </section>
  )
}
