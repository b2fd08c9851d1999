import { render } from 'preact';
import { useState } from 'preact/hooks';
import { token } from './api.ts';
import { AlertsPage } from './pages/alerts.tsx';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SloPage } from './pages/slo.tsx';
import { SlosPage } from './pages/slos.tsx';
import { TracePage } from './pages/trace.tsx';
import { REFRESH_CHOICES, refresh, useRefreshMs } from './refresh.ts';
import { Link, useLocation } from './router.tsx';
import './style.css';

const NAV: [string, string][] = [
  ['/slos', 'SLOs'],
  ['/alerts', 'Alerts'],
  ['/trace', 'Trace'],
  ['/runs', 'Runs'],
  ['/dead-letters', 'Dead letters'],
];

function App() {
  const { path, query } = useLocation();
  const section = path === '/' ? '/slos' : `/${path.split('/')[1] ?? ''}`;
  return (
    <>
      <header class="top">
        <Link href="/" class="brand">
          seamwatch
        </Link>
        <nav>
          {NAV.map(([href, label]) => (
            <Link href={href} class={section === href ? 'current' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <RefreshField />
        <TokenField />
      </header>
      <main>
        <Page path={path} query={query} />
      </main>
    </>
  );
}

function Page(props: { path: string; query: URLSearchParams }) {
  const parts = props.path.split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
    case 'slos':
      return parts[1] ? <SloPage key={parts[1]} name={parts[1]} /> : <SlosPage />;
    case 'alerts':
      return <AlertsPage />;
    case 'trace':
      return <TracePage key={parts[1] ?? ''} correlationId={parts.slice(1).join('/') || undefined} />;
    case 'runs':
      return <RunsPage query={props.query} />;
    case 'dead-letters':
      return <DeadLettersPage query={props.query} />;
    default:
      return <p>No page here.</p>;
  }
}

/** The API token for this tab: silences need it, and every read when the server protects reads. */
/** How often the pages read the API again on their own; kept in this browser. */
function RefreshField() {
  const current = useRefreshMs() / 1000;
  return (
    <label class="refresh small" title="How often this page reads seamwatch again on its own (not while the tab is hidden)">
      auto-refresh{' '}
      <select name="refresh" value={String(current)} onChange={(e) => refresh.set(Number((e.currentTarget as HTMLSelectElement).value))}>
        {REFRESH_CHOICES.map((s) => (
          <option value={String(s)}>{s === 0 ? 'off' : `${s} s`}</option>
        ))}
      </select>
    </label>
  );
}

function TokenField() {
  const [open, setOpen] = useState(false);
  const [has, setHas] = useState(Boolean(token.get()));
  if (!open) {
    return (
      <button type="button" class="token small" onClick={() => setOpen(true)} title="The API token (api.tokenEnv), kept in this tab only">
        {has ? 'API token set' : 'API token'}
      </button>
    );
  }
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        const value = String(new FormData(e.currentTarget as HTMLFormElement).get('token') ?? '').trim();
        token.set(value);
        setHas(Boolean(value));
        setOpen(false);
        location.reload();
      }}
    >
      <input type="password" name="token" aria-label="API token" placeholder="API token" autoComplete="off" />
      <button type="submit" class="small">
        Use
      </button>
    </form>
  );
}

render(<App />, document.getElementById('app')!);
