import { modelImageUrl, type ModelWithAccess } from '../api/client'
import { Menu, type MenuItem } from '../components/Menu'
import { Switch } from '../components/Switch'
import { abilitiesOf } from '../lib/abilities'
import { accessWord } from '../lib/access'
import { Link, navigate } from '../lib/router'

interface ModelCardProps {
  model: ModelWithAccess
  isMine: boolean
  /** A provider serves this id and the owner is no admin (shown to admins only). */
  conflict?: boolean
  /** The models page filters by a template and applying it would change this model (the server's drift). */
  drifted?: boolean
  canClone: boolean
  canExport: boolean
  onToggle: () => void
  onEdit: () => void
  onClone: () => void
  onExport: () => void
  onCopyId: () => void
  onHide: () => void
  onDelete: () => void
  /** Multi-select for "Change access…": shown when given. */
  selected?: boolean
  onSelect?: (selected: boolean) => void
}

function tagNames(meta: Record<string, unknown>): string[] {
  const tags = meta['tags']
  if (!Array.isArray(tags)) return []
  return tags
    .map((tag: unknown) => (typeof tag === 'string' ? tag : tag && typeof tag === 'object' && 'name' in tag ? String(tag.name) : ''))
    .filter((name) => name.length > 0)
}

export function ModelCard(props: ModelCardProps) {
  const { model, isMine, canClone, canExport } = props
  // What the caller may do is the server's answer (`can`), not a rule re-stated here.
  const can = abilitiesOf(model)
  const writable = can.write
  const hidden = model.meta['hidden'] === true
  const description = typeof model.meta['description'] === 'string' ? model.meta['description'] : ''
  const tags = tagNames(model.meta)
  const owner = model.user ? (isMine ? `${model.user.name} (you)` : model.user.name) : 'Deleted user'
  const editHref = `/workspace/models/edit?id=${encodeURIComponent(model.id)}`
  // Readers open the model's own page (issue #16 item 3): what it does, and Try it.
  const viewHref = `/workspace/models/view?id=${encodeURIComponent(model.id)}`
  const access = accessWord(model.access_grants)

  const items: MenuItem[] = [
    ...(writable ? [{ label: 'Edit', onSelect: props.onEdit }] : [{ label: 'View and try', onSelect: () => navigate(viewHref) }]),
    ...(canClone ? [{ label: 'Clone', onSelect: props.onClone }] : []),
    ...(writable && canExport ? [{ label: 'Export', onSelect: props.onExport }] : []),
    { label: 'Copy id', onSelect: props.onCopyId },
    ...(writable ? [{ label: hidden ? 'Show in pickers' : 'Hide from pickers', onSelect: props.onHide }] : []),
    ...(can.delete ? [{ label: 'Delete', onSelect: props.onDelete, danger: true }] : []),
  ]

  return (
    <li className={`model-card${model.is_active ? '' : ' is-inactive'}${props.selected ? ' is-selected' : ''}`} data-model-id={model.id}>
      <div className="model-card-top">
        {props.onSelect ? (
          <label className="model-select" title={`Select ${model.name}`}>
            <input type="checkbox" checked={props.selected ?? false} onChange={(event) => props.onSelect?.(event.target.checked)} />
            <span className="visually-hidden">Select {model.name}</span>
          </label>
        ) : null}
        <img className="model-image" src={modelImageUrl(model.id, model.updated_at)} alt="" width={48} height={48} loading="lazy" />
        <div className="model-card-title">
          <h2 className="model-name">
            <Link to={writable ? editHref : viewHref}>{model.name}</Link>
          </h2>
          <p className="model-id">
            <code>{model.id}</code>
          </p>
        </div>
        <div className="model-card-controls">
          {writable ? <Switch checked={model.is_active} label={`Active: ${model.name}`} onChange={props.onToggle} /> : null}
          <Menu label={`Actions for ${model.name}`} items={items} />
        </div>
      </div>
      <div className="badges">
        {props.conflict ? (
          <span
            className="badge badge-danger badge-wrap"
            data-testid="conflict-badge"
            title="A provider serves this id. Only an administrator's model may use a provider's id, so this one is ignored: calls reach the provider's model. Delete it, or recreate it under another id."
          >
            Conflict: a provider serves this id
          </span>
        ) : null}
        {props.drifted ? (
          <span
            className="badge badge-warning"
            data-testid="drift-badge"
            title="Applying the template again would change this model (see the template's Models tab)."
          >
            Drifted from template
          </span>
        ) : null}
        {!writable ? <span className="badge badge-readonly">Read only</span> : null}
        {writable ? (
          <span
            className="badge"
            title={
              access === 'Shared' ? 'Shared with groups or users' : access === 'Public' ? 'Every signed-in user may use it' : 'Only you and administrators'
            }
          >
            {access}
          </span>
        ) : null}
        {!model.is_active ? <span className="badge">Inactive</span> : null}
        {hidden ? <span className="badge">Hidden</span> : null}
        {tags.slice(0, 4).map((tag) => (
          <span key={tag} className="badge badge-tag">
            {tag}
          </span>
        ))}
      </div>
      {model.status && !model.status.ok ? (
        // Issue #16 item 5: a preset that cannot run (its base is gone, its chain broken, or not available to you) says why.
        <p className="status-warning" role="note" data-testid="status-warning">
          ⚠ {model.status.reason ?? 'This model cannot be used right now.'}
        </p>
      ) : null}
      {description ? <p className="model-description">{description}</p> : <p className="model-description muted">No description.</p>}
      <dl className="model-facts">
        <div>
          <dt>Base model</dt>
          <dd>{model.base_model_id ? <code>{model.base_model_id}</code> : '—'}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd title={model.user?.email}>{owner}</dd>
        </div>
      </dl>
    </li>
  )
}
