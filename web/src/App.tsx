/** Routes behind two gates: signed in (else the sign-in page) and approved (else the waiting page). */
import { useEffect, useRef, useState, type ReactNode } from 'react'
import { QueryClientProvider } from '@tanstack/react-query'
import { Link, navigate, safeNext, useLocation } from './lib/router'
import { Notices } from './lib/notify'
import { SessionProvider, can, useSession, useUser } from './lib/session'
import { Loading } from './components/States'
import { AuthPage } from './pages/AuthPage'
import { PendingPage } from './pages/PendingPage'
import { ModelsPage } from './pages/ModelsPage'
import { createQueryClient, usePublicConfig } from './lib/queries'
import { ModelEditorPage } from './pages/model-editor/ModelEditorPage'
import { UsersPage } from './pages/admin/UsersPage'
import { GroupsPage } from './pages/admin/GroupsPage'
import { ConnectionsPage } from './pages/admin/ConnectionsPage'
import { AuditPage } from './pages/admin/AuditPage'
import { AnalyticsPage } from './pages/analytics/AnalyticsPage'
import { ModelConfigPage } from './pages/admin/ModelConfigPage'
import { BaseModelsPage } from './pages/admin/BaseModelsPage'
import { SsoPage } from './pages/admin/SsoPage'
import { TrashPage } from './pages/TrashPage'
import { AccountPage } from './pages/account/AccountPage'
import { ModelViewPage } from './pages/model-view/ModelViewPage'
import { Avatar } from './components/Avatar'
import { TemplatesGate, TemplatesPage } from './pages/templates/TemplatesPage'
import { TemplateEditorPage } from './pages/templates/TemplateEditorPage'

export function App() {
  // One cache for the app's life (the session empties it at sign-in and sign-out).
  const [queryClient] = useState(createQueryClient)
  return (
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <Gate />
        <Notices />
      </SessionProvider>
    </QueryClientProvider>
  )
}

const PUBLIC_PATHS = ['/signin', '/signup']

function Gate() {
  const { user } = useSession()
  const { pathname, search, href } = useLocation()
  const isPublic = PUBLIC_PATHS.includes(pathname)
  // First run (issue #16 item 6): while no account exists, every signed-out address opens the sign-up
  // that creates the administrator (`onboarding` of GET /api/config).
  const config = usePublicConfig()
  const onboarding = user === null ? config.data?.onboarding : undefined
  const configPending = user === null && config.isPending

  useEffect(() => {
    if (user === null && onboarding === true && pathname !== '/signup') {
      navigate('/signup', { replace: true })
    } else if (user === null && !isPublic && !configPending) {
      const next = pathname === '/' ? '' : `?next=${encodeURIComponent(href)}`
      navigate(`/signin${next}`, { replace: true })
    } else if (user && isPublic) {
      const next = search.get('next')
      navigate(safeNext(next, '/workspace/models'), { replace: true })
    } else if (user && pathname === '/') {
      navigate('/workspace/models', { replace: true })
    }
  }, [user, isPublic, pathname, search, href, onboarding, configPending])

  if (user === undefined || (user === null && configPending && !isPublic)) {
    return (
      <main className="centered" id="main">
        <Loading label="Checking your session…" />
      </main>
    )
  }
  // Keyed by path: sign-in and sign-up are two forms with their own schema.
  if (user === null) return isPublic ? <AuthPage key={pathname} mode={pathname === '/signup' ? 'signup' : 'signin'} /> : null
  if (user.role === 'pending') return <PendingPage />
  if (isPublic || pathname === '/') return null
  return (
    <Layout>
      <Routes pathname={pathname} />
    </Layout>
  )
}

function Routes({ pathname }: { pathname: string }) {
  const user = useUser()
  switch (pathname) {
    case '/workspace':
    case '/workspace/models':
      return <ModelsPage />
    case '/workspace/models/create':
      return <ModelEditorPage mode="create" />
    case '/workspace/models/view':
      return <ModelViewPage />
    case '/account':
      return <AccountPage />
    case '/workspace/models/edit':
      return <ModelEditorPage mode="edit" />
    case '/workspace/trash':
      return <TrashPage />
    case '/workspace/analytics':
      return <AnalyticsPage />
    case '/workspace/templates':
      return (
        <TemplatesGate title="Templates">
          <TemplatesPage />
        </TemplatesGate>
      )
    case '/workspace/templates/create':
      return (
        <TemplatesGate title="New template">
          <TemplateEditorPage mode="create" />
        </TemplatesGate>
      )
    case '/workspace/templates/edit':
      return (
        <TemplatesGate title="Template">
          <TemplateEditorPage mode="edit" />
        </TemplatesGate>
      )
    default:
      break
  }
  if (pathname.startsWith('/admin')) {
    if (user.role !== 'admin') return <Forbidden />
    switch (pathname) {
      case '/admin':
      case '/admin/users':
        return <UsersPage />
      case '/admin/groups':
        return <GroupsPage />
      case '/admin/connections':
        return <ConnectionsPage />
      case '/admin/audit':
        return <AuditPage />
      case '/admin/models':
        return <ModelConfigPage />
      case '/admin/base-models':
        return <BaseModelsPage />
      case '/admin/sso':
        return <SsoPage />
      default:
        break
    }
  }
  return <NotFound />
}

function Layout({ children }: { children: ReactNode }) {
  const { signOut } = useSession()
  const user = useUser()
  const { pathname } = useLocation()
  const mainRef = useRef<HTMLElement>(null)
  const firstRender = useRef(true)

  // After a navigation, move focus to the new page's heading so keyboard and screen-reader users start there.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false
      return
    }
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus()
  }, [pathname])

  const links = [
    { to: '/workspace/models', label: 'Models', active: pathname.startsWith('/workspace/models') || pathname === '/workspace' },
    // Templates need `workspace.templates` (admins have every permission): others get no entry.
    ...(can(user, 'workspace.templates') ? [{ to: '/workspace/templates', label: 'Templates', active: pathname.startsWith('/workspace/templates') }] : []),
    { to: '/workspace/trash', label: 'Trash', active: pathname === '/workspace/trash' },
    { to: '/workspace/analytics', label: 'Analytics', active: pathname === '/workspace/analytics' },
    ...(user.role === 'admin'
      ? [
          { to: '/admin/users', label: 'Users', active: pathname === '/admin/users' || pathname === '/admin' },
          { to: '/admin/groups', label: 'Groups', active: pathname === '/admin/groups' },
          { to: '/admin/connections', label: 'Connections', active: pathname === '/admin/connections' },
          { to: '/admin/base-models', label: 'Base models', active: pathname === '/admin/base-models' },
          { to: '/admin/models', label: 'Model settings', active: pathname === '/admin/models' },
          { to: '/admin/sso', label: 'Single sign-on', active: pathname === '/admin/sso' },
          { to: '/admin/audit', label: 'Audit', active: pathname === '/admin/audit' },
        ]
      : []),
  ]

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/workspace/models" className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          modelgate
        </Link>
        <nav className="topnav" aria-label="Main">
          {links.map((link) => (
            <Link key={link.to} to={link.to} className="topnav-link" aria-current={link.active ? 'page' : undefined}>
              {link.label}
            </Link>
          ))}
        </nav>
        <div className="account">
          <Link
            to="/account"
            className="account-name"
            title={user.email}
            aria-label={`${user.name}${user.role === 'admin' ? ' (admin)' : ''}: your account`}
            aria-current={pathname === '/account' ? 'page' : undefined}
          >
            <Avatar src={user.profile_image_url} size={24} />
            {user.name}
            {user.role === 'admin' ? <span className="badge badge-accent">admin</span> : null}
          </Link>
          <button type="button" className="button button-small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef} className="main" tabIndex={-1}>
        {children}
      </main>
    </>
  )
}

function NotFound() {
  return (
    <section className="page">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing here. <Link to="/workspace/models">Go to the models</Link>.
      </p>
    </section>
  )
}

function Forbidden() {
  return (
    <section className="page">
      <h1 tabIndex={-1}>Administrators only</h1>
      <p>
        This page is for administrators. <Link to="/workspace/models">Go to the models</Link>.
      </p>
    </section>
  )
}
