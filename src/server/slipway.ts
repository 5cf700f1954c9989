import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../core/clock.ts';
import { EventLog } from '../core/events.ts';
import { ArtifactStore } from '../artifact/store.ts';
import { DeployController } from '../deploy/controller.ts';
import { InstanceManager } from '../deploy/instances.ts';
import { Operations } from '../deploy/operations.ts';
import { Promotion } from '../deploy/promotion.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { Router } from '../router/router.ts';
import { LocalDriver } from '../runtime/local/driver.ts';
import { Store } from '../store/store.ts';
import { specOf } from '../deploy/releases.ts';
import type { AlertingConfig } from '../telemetry/alerts/index.ts';
import { Observability } from '../telemetry/observability.ts';

export interface SlipwayOptions {
  dataDir: string;
  pollIntervalMs: number;
  clock?: Clock;
  /** Global alert rules and notifiers (server configuration). */
  alerting?: AlertingConfig;
}

/** The control plane, composed: every domain object built once and wired to its neighbours. */
export class Slipway {
  readonly store: Store;
  readonly events: EventLog;
  readonly router: Router;
  readonly driver: LocalDriver;
  readonly instances: InstanceManager;
  readonly controller: DeployController;
  readonly promotion: Promotion;
  readonly operations: Operations;
  readonly pipeline: Pipeline;
  readonly artifacts: ArtifactStore;
  readonly observability: Observability;
  readonly dataDir: string;

  constructor(opts: SlipwayOptions) {
    const clock = opts.clock ?? systemClock;
    this.dataDir = opts.dataDir;
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    this.store = new Store(path.join(opts.dataDir, 'slipway.db'));
    this.events = new EventLog(this.store, clock);
    this.artifacts = new ArtifactStore(opts.dataDir);
    this.driver = new LocalDriver({ dataDir: opts.dataDir, clock });
    const kick = () => this.controller.kick();
    this.router = new Router({ onBackendError: (id) => this.instances.connectionFailed(id) });
    this.instances = new InstanceManager({ store: this.store, driver: this.driver, router: this.router, events: this.events, clock, artifacts: this.artifacts, kick });
    this.promotion = new Promotion({ store: this.store, events: this.events, clock, kick });
    this.controller = new DeployController({
      store: this.store, events: this.events, clock, instances: this.instances, router: this.router,
      onCommitted: (d) => this.promotion.deploymentCommitted(d),
    });
    this.operations = new Operations({ store: this.store, events: this.events, clock, instances: this.instances, promotion: this.promotion, kick });
    this.pipeline = new Pipeline({
      store: this.store, events: this.events, clock, artifacts: this.artifacts, dataDir: opts.dataDir,
      pollIntervalMs: opts.pollIntervalMs,
      onArtifact: (a) => { this.observability.setAppRules(a.app, specOf(a).alerts); this.promotion.artifactBuilt(a); },
      onLine: (run, line) => this.observability.runLine(run, line),
    });
    this.observability = new Observability({
      dataDir: opts.dataDir, clock, store: this.store, router: this.router, driver: this.driver, events: this.events, alerting: opts.alerting,
    });
    this.driver.onExit(() => kick());
  }

  /** Re-adopt instances, then resume deployments and runs where they stopped. */
  async start(): Promise<void> {
    // Each app's alert rules come from the newest slipway.yaml it built.
    for (const app of this.store.listApps()) {
      const newest = this.store.listArtifacts(app.name)[0];
      if (newest) this.observability.setAppRules(app.name, specOf(newest).alerts);
    }
    this.observability.start();
    await this.instances.recover();
    this.promotion.resumeUndeployed();
    this.controller.start();
    this.pipeline.start();
  }

  /** Stops the control plane. Instances keep running: the next start re-adopts them. */
  async stop(): Promise<void> {
    await this.pipeline.stop();
    await this.controller.stop();
    this.instances.close();
    await this.router.close();
    await this.observability.stop();
    this.store.close();
  }
}
