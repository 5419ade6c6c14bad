/**
 * The Models tab of a template: the models linked to it (made from it or last applied from it) that the
 * caller may read, each with a "Drifted" badge when applying the template (merge) would change it, and
 * that diff (`GET /templates/template/models`; grant rows only on models the caller may write).
 */
import { useState } from 'react'
import type { Template } from '../../api/client'
import { Empty, ErrorState, Loading } from '../../components/States'
import { Pagination } from '../../components/Pagination'
import { useTemplateModels } from '../../lib/queries'
import { Link } from '../../lib/router'
import { DiffTable } from '../history/DiffTable'
import { usePrincipalNames } from './ApplyTemplateDialog'

const PAGE_SIZE = 20

export function TemplateModelsPanel({ template }: { template: Template }) {
  const [page, setPage] = useState(1)
  const models = useTemplateModels(template.id, page, PAGE_SIZE)
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set())
  const principalName = usePrincipalNames((models.data?.items ?? []).flatMap((item) => item.changes))
  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })

  if (models.error && !models.data) {
    return <ErrorState error={models.error} title="The template's models could not be loaded" onRetry={() => void models.refetch()} />
  }
  if (!models.data) return <Loading label="Loading the template's models…" />
  const { items, total } = models.data
  if (total === 0) {
    return (
      <Empty title="No model is linked to this template">
        <p>Models created from it, or that it was applied to, appear here.</p>
      </Empty>
    )
  }
  const drifted = items.filter((item) => item.drifted).length
  return (
    <div className="template-models" aria-busy={models.isFetching}>
      <p data-testid="template-models-total">
        {total === 1 ? '1 model is' : `${total} models are`} linked to {template.name}.{' '}
        {drifted > 0 ? `${drifted} on this page drifted from it.` : 'None on this page drifted from it.'}{' '}
        <Link to={`/workspace/models?template=${encodeURIComponent(template.id)}`}>Show them on the models page</Link>
      </p>
      <ul className="template-model-list" aria-label={`Models of ${template.name}`}>
        {items.map((item) => (
          <li key={item.id} data-template-model={item.id} className="template-model">
            <div className="row row-between">
              <span>
                <Link to={`/workspace/models/edit?id=${encodeURIComponent(item.id)}`}>{item.name}</Link> <code className="muted">{item.id}</code>{' '}
                {item.drifted ? (
                  <span className="badge badge-warning" data-testid="drift-badge">
                    Drifted
                  </span>
                ) : (
                  <span className="badge">In line</span>
                )}
              </span>
              {item.drifted ? (
                <button type="button" className="button button-small" aria-expanded={open.has(item.id)} onClick={() => toggle(item.id)}>
                  {open.has(item.id) ? 'Hide the diff' : `Show the diff (${item.changes.length})`}
                </button>
              ) : null}
            </div>
            {item.drifted && open.has(item.id) ? (
              <DiffTable
                changes={item.changes}
                fromLabel="The model now"
                toLabel="After applying"
                caption={`How ${item.name} differs from ${template.name}`}
                nameOf={principalName}
              />
            ) : null}
          </li>
        ))}
      </ul>
      <Pagination page={page} pageSize={PAGE_SIZE} total={total} onPage={setPage} label="Pages of the template's models" />
    </div>
  )
}
