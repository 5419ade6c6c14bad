/**
 * Workspace › Templates (issue #13 part 1): the configuration templates the account may read, searched
 * and paged on the server, with their owner, what each holds and whether the caller may change it;
 * "New template" and "Create from model…". Only for accounts with `workspace.templates` (admins always):
 * others get a notice (TemplatesGate) and no navigation entry.
 */
import { useState, type ReactNode } from 'react'
import type { Template } from '../../api/client'
import { Empty, ErrorState, Loading } from '../../components/States'
import { Pagination } from '../../components/Pagination'
import { useDebounced } from '../../lib/hooks'
import { useTemplateList } from '../../lib/queries'
import { Link } from '../../lib/router'
import { can, useUser } from '../../lib/session'
import { formatDate } from '../../lib/format'
import { FromModelDialog } from './FromModelDialog'
import { ownerLabel, sectionsOf } from './template-form'

export const TEMPLATES_PAGE_SIZE = 20

/** Whether the account may use the templates pages: the feature permission (admins have all). */
export function useMayUseTemplates(): boolean {
  return can(useUser(), 'workspace.templates')
}

/** The templates pages, or a notice saying which permission they need. */
export function TemplatesGate({ title, children }: { title: string; children: ReactNode }) {
  if (!useMayUseTemplates()) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>{title}</h1>
        <ErrorState
          error={new Error('Templates need the “workspace.templates” permission. Ask an administrator to grant it to one of your groups.')}
          title="You may not use configuration templates"
        />
        <Link to="/workspace/models">Back to the models</Link>
      </section>
    )
  }
  return <>{children}</>
}

export function TemplatesPage() {
  const user = useUser()
  const [text, setText] = useState('')
  const query = useDebounced(text.trim(), 300)
  const [paging, setPaging] = useState({ query, page: 1 })
  const page = paging.query === query ? paging.page : 1
  const list = useTemplateList({ query: query || undefined, page, limit: TEMPLATES_PAGE_SIZE })
  const [fromModel, setFromModel] = useState(false)
  const data = list.data

  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>
          Templates{' '}
          {data ? (
            <span className="count" aria-label={`${data.total} in total`}>
              {data.total}
            </span>
          ) : null}
        </h1>
        <div className="page-actions">
          <button type="button" className="button" onClick={() => setFromModel(true)}>
            Create from model…
          </button>
          <Link to="/workspace/templates/create" className="button button-primary">
            New template
          </Link>
        </div>
      </div>
      <p className="hint">
        A template holds parameters (some locked), meta, a base model and an access configuration. New models can start from one, and it can be applied to
        existing models (with a preview first).
      </p>

      <div className="filters" role="search" aria-label="Filter templates">
        <div className="field field-grow">
          <label htmlFor="templates-search">Search</label>
          <input
            id="templates-search"
            type="search"
            placeholder="Name, id or description"
            maxLength={500}
            value={text}
            onChange={(event) => setText(event.target.value)}
          />
        </div>
      </div>

      {list.error && !data ? (
        <ErrorState error={list.error} title="The templates could not be loaded" onRetry={() => void list.refetch()} />
      ) : !data ? (
        <Loading label="Loading templates…" />
      ) : data.items.length === 0 ? (
        query ? (
          <Empty title="No template matches this search" />
        ) : (
          <Empty title="No templates yet">
            <p>Templates you create, and those shared with you, appear here.</p>
          </Empty>
        )
      ) : (
        <div aria-busy={list.isFetching}>
          <div className="table-scroll">
            <table className="table table-flow templates-table">
              <caption className="visually-hidden">Templates you may read</caption>
              <thead>
                <tr>
                  <th scope="col">Template</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Holds</th>
                  <th scope="col">You may</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((template) => (
                  <TemplateRow key={template.id} template={template} owner={ownerLabel(template, user.id)} />
                ))}
              </tbody>
            </table>
          </div>
          <Pagination
            page={page}
            pageSize={TEMPLATES_PAGE_SIZE}
            total={data.total}
            onPage={(next) => setPaging({ query, page: next })}
            label="Template pages"
          />
        </div>
      )}
      {fromModel ? <FromModelDialog onClose={() => setFromModel(false)} /> : null}
    </section>
  )
}

function TemplateRow({ template, owner }: { template: Template; owner: string }) {
  const sections = sectionsOf(template)
  return (
    <tr data-template-id={template.id}>
      <td data-label="Template" className="template-name">
        <Link to={`/workspace/templates/edit?id=${encodeURIComponent(template.id)}`}>{template.name}</Link> <code className="muted">{template.id}</code>
        {template.description ? <p className="hint">{template.description}</p> : null}
      </td>
      <td data-label="Owner">{owner}</td>
      <td data-label="Holds">
        {sections.length === 0 ? (
          <span className="muted">Nothing yet</span>
        ) : (
          <span className="badges">
            {sections.map((section) => (
              <span key={section} className="badge">
                {section}
              </span>
            ))}
          </span>
        )}
      </td>
      <td data-label="You may">{template.write_access ? 'Edit' : <span className="badge badge-readonly">Read only</span>}</td>
      <td data-label="Updated" className="nowrap">
        {formatDate(template.updated_at)}
      </td>
    </tr>
  )
}
