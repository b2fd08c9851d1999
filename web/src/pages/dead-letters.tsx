import type { DeadLettersPage as DeadLettersAnswer } from '../api.ts';
import { Badge, Freshness, Load } from '../common.tsx';
import { number, time } from '../format.ts';
import { navigate } from '../router.tsx';
import { useApi } from '../use-api.ts';

const REASONS = ['not-json', 'not-cloudevent', 'missing-field', 'invalid-field', 'mapping-failed', 'source-mismatch', 'time-in-future', 'field-too-long', 'bad-signature'];

/** Messages that could not become events: why, where from, and the raw bytes as text. */
export function DeadLettersPage(props: { query: URLSearchParams }) {
  const query = new URLSearchParams([...props.query].filter(([k, v]) => ['reason', 'topic', 'from', 'to'].includes(k) && v !== ''));
  const letters = useApi<DeadLettersAnswer>(`/api/v1/dead-letters?${query}`);
  return (
    <section>
      <h1>Dead letters</h1>
      <Freshness loaded={letters} />
      <form
        class="filters"
        key={query.toString()}
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget as HTMLFormElement);
          const next = new URLSearchParams();
          for (const k of ['reason', 'topic']) if (form.get(k)) next.set(k, String(form.get(k)));
          navigate(`/dead-letters${next.size > 0 ? `?${next}` : ''}`);
        }}
      >
        <label>
          reason
          <select name="reason" value={query.get('reason') ?? ''}>
            <option value="">all</option>
            {REASONS.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          topic <input name="topic" value={query.get('topic') ?? ''} placeholder="all" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Load loaded={letters}>
        {(page) => (
          <>
            <p class="muted" data-testid="dead-letters-count">
              {page.deadLetters.length < page.total ? `newest ${number(page.deadLetters.length)} of ${number(page.total)} dead letters` : `${number(page.total)} dead letters`} from {time(page.from)} to {time(page.to)}
            </p>
            <table class="list dead-letters" data-testid="dead-letters">
              <thead>
                <tr>
                  <th>at</th>
                  <th>reason</th>
                  <th>origin</th>
                  <th>raw message</th>
                </tr>
              </thead>
              <tbody>
                {page.deadLetters.map((d) => (
                  <tr data-origin={`${d.origin.topic}/${d.origin.partition}/${d.origin.offset}`}>
                    <td class="nowrap">{time(d.at)}</td>
                    <td class="wrap">
                      <Badge kind="bad">{d.reason}</Badge>
                      <div data-field="detail">{d.detail}</div>
                    </td>
                    <td class="wrap">
                      <code>{d.origin.topic}</code>
                      <div class="muted">
                        partition {d.origin.partition}, offset {d.origin.offset}
                      </div>
                      {d.key !== null && <div class="muted">key {d.key}</div>}
                      {Object.entries(d.headers).length > 0 && (
                        <div class="muted headers">
                          {Object.entries(d.headers).map(([k, v]) => (
                            <div>
                              {k}: {v}
                            </div>
                          ))}
                        </div>
                      )}
                    </td>
                    <td class="wrap">
                      {d.rawBytes === null ? (
                        <span class="muted">no value (tombstone)</span>
                      ) : (
                        <>
                          <pre class="raw" data-field="raw">
                            {d.rawPreview}
                            {d.rawTruncated ? '…' : ''}
                          </pre>
                          <div class="muted">{number(d.rawBytes)} bytes</div>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Load>
    </section>
  );
}
