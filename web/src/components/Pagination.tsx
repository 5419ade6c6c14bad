export function Pagination({
  page,
  pageSize,
  total,
  onPage,
  label,
}: {
  page: number
  pageSize: number
  total: number
  onPage: (page: number) => void
  label: string
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize))
  if (total === 0) return null
  const first = (page - 1) * pageSize + 1
  const last = Math.min(total, page * pageSize)
  return (
    <nav className="pagination" aria-label={label}>
      <span className="pagination-range">
        {first}–{last} of {total}
      </span>
      {pages > 1 ? (
        <span className="pagination-buttons">
          <button type="button" className="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
            ‹ Previous
          </button>
          <span aria-current="page">
            Page {page} of {pages}
          </span>
          <button type="button" className="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
            Next ›
          </button>
        </span>
      ) : null}
    </nav>
  )
}
