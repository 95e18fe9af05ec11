/**
 * The global setup of the `citus` test project (vitest.config.ts): one Citus cluster for the run, the
 * coordinator given to the test files as adminUrl (tests/support/db.ts then makes each file's database on
 * every node). Only used where Citus is installed; elsewhere the project is left out with a one-line reason.
 */
import type { TestProject } from 'vitest/node';

import { startCitusCluster } from './citus-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    citusWorkerPorts: number[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCitusCluster(2);
  project.provide('adminUrl', cluster.adminUrl);
  project.provide('citusWorkerPorts', cluster.workerPorts);
  return cluster.stop;
}
