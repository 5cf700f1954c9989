// Schema history. Append only: a shipped migration is never edited, a change is a new entry.
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE apps (
    name TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    branch TEXT NOT NULL,
    last_seen_commit TEXT,
    run_counter INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name),
    number INTEGER NOT NULL,
    commit_sha TEXT NOT NULL,
    branch TEXT NOT NULL,
    author TEXT,
    message TEXT,
    trigger TEXT NOT NULL,
    state TEXT NOT NULL,            -- queued | running | succeeded | failed | cancelled
    error TEXT,
    artifact TEXT,
    queued_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX runs_by_app ON runs(app, number);
  CREATE TABLE run_steps (
    run_id TEXT NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,            -- spec | build | test | artifact
    command TEXT,
    state TEXT NOT NULL,            -- pending | running | succeeded | failed | skipped | cancelled
    exit_code INTEGER,
    error TEXT,
    started_at INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (run_id, idx)
  );
  CREATE TABLE run_log (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    stream TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  CREATE TABLE artifacts (
    digest TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    version TEXT NOT NULL,
    run_id TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    size INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    env TEXT NOT NULL,
    version TEXT NOT NULL,
    artifact TEXT NOT NULL REFERENCES artifacts(digest),
    config TEXT NOT NULL,           -- JSON: the service + environment settings this release runs with
    config_digest TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    env TEXT NOT NULL,
    number INTEGER NOT NULL,
    from_release TEXT,
    to_release TEXT NOT NULL REFERENCES releases(id),
    strategy TEXT NOT NULL,         -- JSON StrategySpec
    state TEXT NOT NULL,            -- pending | progressing | rolling_back | succeeded | failed | rolled_back (see migration 2)
    reason TEXT,
    trigger TEXT NOT NULL,          -- pipeline | approval | manual | rollback
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX deployments_by_env ON deployments(app, env, number);
  CREATE TABLE environments (
    app TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    current_release TEXT,
    deployed_at INTEGER,
    PRIMARY KEY (app, name)
  );
  CREATE TABLE gates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    env TEXT NOT NULL,
    artifact TEXT NOT NULL,
    state TEXT NOT NULL,            -- waiting | approved | superseded
    created_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER
  );
  CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    env TEXT NOT NULL,
    release_id TEXT NOT NULL,
    version TEXT NOT NULL,
    port INTEGER NOT NULL,
    pid INTEGER,
    state TEXT NOT NULL,            -- starting | running | draining | stopping | stopped | crashed | failed
    healthy INTEGER NOT NULL DEFAULT 0,
    routed INTEGER NOT NULL DEFAULT 0,
    restarts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    healthy_at INTEGER,
    drain_started_at INTEGER,
    stopped_at INTEGER,
    last_error TEXT
  );
  CREATE INDEX instances_by_env ON instances(app, env, state);
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    app TEXT,
    env TEXT,
    deployment TEXT,
    instance TEXT,
    kind TEXT NOT NULL,             -- e.g. deploy.start.intent / deploy.start.done / gate.approved / instance.crashed
    actor TEXT NOT NULL,
    before TEXT,
    after TEXT,
    message TEXT
  );
  CREATE INDEX events_by_deployment ON events(deployment, seq);
  `,
  // Progressive delivery: traffic weights, canary steps, probation, pauses, baseline instances,
  // analysis verdicts, and environments whose automatic deployments wait after a rollback.
  `
  ALTER TABLE deployments ADD COLUMN weight INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE deployments ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE deployments ADD COLUMN step_started_at INTEGER;
  ALTER TABLE deployments ADD COLUMN probation_until INTEGER;
  ALTER TABLE deployments ADD COLUMN paused_from TEXT;
  ALTER TABLE deployments ADD COLUMN ending TEXT;
  UPDATE deployments SET state = 'committed' WHERE state = 'succeeded';
  ALTER TABLE instances ADD COLUMN role TEXT NOT NULL DEFAULT 'main';
  ALTER TABLE environments ADD COLUMN auto_paused INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment TEXT NOT NULL,
    step INTEGER NOT NULL,
    weight INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    score REAL NOT NULL,
    canary_count INTEGER NOT NULL,
    baseline_count INTEGER NOT NULL,
    summary TEXT NOT NULL,
    metrics TEXT NOT NULL
  );
  CREATE INDEX verdicts_by_deployment ON verdicts(deployment, id);
  `,
];
