import { table, ago } from '../format.ts';
import { client, enc, print, type CommandModule } from '../context.ts';
import { renderMetricNames, renderQueryResult } from '../../telemetry/metrics/render.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function logLine(r: any): string {
  const where = [r.env, r.instance ?? (r.fields?.run ? `${r.fields.run}#${r.fields.step}` : r.source)].filter(Boolean).join('/');
  return `${new Date(r.ts).toISOString().slice(0, 23).replace('T', ' ')} ${(r.level ?? '-').padEnd(5)} ${where}  ${r.stream === 'stderr' ? '! ' : ''}${r.message}`;
}

export const telemetryCommands: CommandModule = (cli) => {
  cli.command('logs <app> [env]').description('search and follow logs: instance output, pipeline steps, deployment events')
    .option('--env <env>').option('--release <release>').option('--instance <id>').option('--source <source>', 'instance, pipeline, event or external')
    .option('--since <time>', 'e.g. 15m, 2h, or an ISO time').option('--until <time>').option('--level <level>', 'this level and above: debug, info, warn, error')
    .option('--grep <text>').option('--field <k=v>', 'a parsed field must have this value (repeatable)', collect).option('--limit <n>', 'most lines', '200')
    .option('-f, --follow', 'keep printing new lines').option('--json')
    .action(async (app: string, env: string | undefined, o) => {
      const params = new URLSearchParams({ app, limit: o.limit });
      for (const key of ['release', 'instance', 'source', 'since', 'until', 'level', 'grep']) if (o[key]) params.set(key, o[key]);
      if (o.env ?? env) params.set('env', o.env ?? env);
      for (const f of o.field ?? []) params.append('field', f);
      if (!o.follow) {
        const res = await client().get<{ records: any[]; stats: any }>(`/api/v1/logs?${params}`);
        return print(o.json, res.records, () => (res.records.length ? res.records.map(logLine).join('\n') : 'no matching log lines'));
      }
      params.set('follow', '1');
      await client().stream(`/api/v1/logs?${params}`, (event, data) => { if (event !== 'ping') console.log(o.json ? data : logLine(JSON.parse(data))); });
    });

  cli.command('metrics <app> [metric]').description('query recorded metrics (without <metric>: list them)')
    .option('--env <env>').option('--since <duration>', 'how far back', '1h').option('--step <duration>').option('--fn <fn>', 'raw, rate, increase, histogram_quantile, …')
    .option('--window <duration>').option('--agg <agg>', 'sum, avg, max, min, count').option('--by <labels>', 'comma-separated labels to keep when aggregating')
    .option('--quantile <q>', 'e.g. 0.99 (histograms)').option('--match <matcher>', 'label matcher such as release=v2 or code=~5.. (repeatable)', collect).option('--json')
    .action(async (app: string, metric: string | undefined, o) => {
      if (!metric) {
        const res = await client().get<{ metrics: string[]; families: any[] }>(`/api/v1/apps/${enc(app)}/metrics`);
        return print(o.json, res.metrics, () => renderMetricNames(res.metrics, res.families));
      }
      const params = new URLSearchParams();
      for (const key of ['env', 'since', 'step', 'fn', 'window', 'agg', 'by', 'quantile']) if (o[key]) params.set(key, o[key]);
      for (const m of o.match ?? []) params.append('match', m);
      const result = await client().get<any>(`/api/v1/apps/${enc(app)}/metrics/${enc(metric)}?${params}`);
      print(o.json, result, () => renderQueryResult(result));
    });

  cli.command('alerts [app]').description('alerts (pending, firing, recently resolved) and notifiers that fail to deliver').option('--env <env>').option('--state <state>').option('--json')
    .action(async (app: string | undefined, o) => {
      const params = new URLSearchParams();
      if (app) params.set('app', app);
      for (const key of ['env', 'state']) if (o[key]) params.set(key, o[key]);
      const { alerts } = await client().get<{ alerts: any[] }>(`/api/v1/alerts?${params}`);
      const { notifiers } = await client().get<{ notifiers: any[] }>('/api/v1/alerting');
      // A receiver that is down must be visible where people look at alerts.
      const failing = notifiers.filter((n) => n.attempts > 0 || n.dropped > 0);
      print(o.json, { alerts, notifiers }, () => [
        alerts.length ? table(['RULE', 'APP', 'ENV', 'STATE', 'SEVERITY', 'SINCE', 'SILENCED'],
          alerts.map((a) => [a.rule ?? a.ruleName ?? a.name, a.app, a.env, a.state, a.severity, ago(a.since ? new Date(a.since).toISOString() : null), a.silenced ? 'yes' : ''])) : 'no alerts',
        ...failing.map((n) => `notifier ${n.name} (${n.kind} ${n.target}) is failing: ${n.queued} queued, ${n.attempts} attempts, last error: ${n.lastError}`),
      ].join('\n'));
    });
  cli.command('silence <app>').description('silence alerts of an app for a while').requiredOption('--for <duration>', 'e.g. 2h').option('--env <env>').option('--rule <name>').option('--comment <text>').option('--json')
    .action(async (app: string, o) => {
      const s = await client().post<any>('/api/v1/silences', { app, env: o.env, rule: o.rule, duration: o.for, comment: o.comment });
      print(o.json, s, () => `silence ${s.id}: ${[app, o.env, o.rule].filter(Boolean).join('/')} until ${new Date(s.endsAt).toISOString()}`);
    });
  cli.command('silences').description('list silences').option('--all', 'include expired ones').option('--json').action(async (o) => {
    const { silences } = await client().get<{ silences: any[] }>(`/api/v1/silences${o.all ? '?all=1' : ''}`);
    print(o.json, silences, () => (silences.length ? table(['ID', 'MATCHES', 'STATUS', 'UNTIL', 'BY', 'COMMENT'],
      silences.map((s) => [s.id, [s.app, s.env, s.rule].filter(Boolean).join('/') || '(all)', s.status, new Date(s.endsAt).toISOString(), s.createdBy, s.comment])) : 'no silences'));
  });
  cli.command('unsilence <id>').description('end a silence now').option('--json').action(async (id: string, o) => {
    const s = await client().delete<any>(`/api/v1/silences/${enc(id)}`);
    print(o.json, s, () => `silence ${s.id} expired`);
  });
};
