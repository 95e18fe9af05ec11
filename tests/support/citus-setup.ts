/**
 * The global setup of the `citus` test project (vitest.config.ts): one Citus cluster for the run, the
 * coordinator given to the test files as adminUrl, and the run's migrated template made on it, as the
 * `postgres` project's global setup makes its own (tests/support/db.ts copies it, on every node, for each
 * file's database). Only used where Citus is installed; elsewhere the project is left out with a one-line
 * reason.
 */
import { randomBytes } from 'node:crypto';

import type { TestProject } from 'vitest/node';

import { migrate } from '../../loader/migrate.js';
import { closeDatabaseOn, createCitusDatabase, on, startCitusCluster } from './citus-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    citusWorkerPorts: number[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCitusCluster(2);
  const ports = [cluster.coordinatorPort, ...cluster.workerPorts];
  try {
    const prefix = `tpl_${randomBytes(4).toString('hex')}`;
    const migrated = `${prefix}_migrated`;
    // a database on every node with the citus extension and the workers registered, as an operator makes
    // one, then migrated; a template takes no connections (Citus's maintenance daemon ended with the rest)
    await createCitusDatabase(cluster.coordinatorPort, cluster.workerPorts, migrated);
    await migrate({ connectionString: on(cluster.coordinatorPort, migrated) }, 'up');
    await closeDatabaseOn(ports.map((p) => on(p, 'postgres')), migrated);
    project.provide('adminUrl', cluster.adminUrl);
    project.provide('citusWorkerPorts', cluster.workerPorts);
    project.provide('templatePrefix', prefix);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  // the templates go with the cluster
  return cluster.stop;
}
