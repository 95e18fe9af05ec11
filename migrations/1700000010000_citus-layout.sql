-- Up Migration
-- The distributed layout, on a Citus coordinator only (the citus extension is in the database; on plain
-- PostgreSQL this does nothing). docs/scale-out.md gives the reasons; in short:
--   - the row tables are distributed by load_id, in one co-location group: staging.transactions (the
--     loader's COPY goes straight to the shards), core.transactions, core.duplicates and core.quarantine.
--     A load's rows, staged and typed, sit on one shard, so a step that reads or deletes a batch's loads by
--     load_id runs on the workers, each over its own shards, and the primary keys (load_id, line_no) hold
--     as they are (Citus needs the distribution column in every unique key).
--   - the ledger (meta.loads, with its completed-load NOTIFY trigger, and staging.load_rejects, which
--     refers to it) and the transform's bookkeeping stay on the coordinator: small, written once per load
--     or run, and read with the ledger's triggers and foreign keys, which distributed tables cannot carry.
--   - the summaries (core.invoices … core.days) stay on the coordinator: one row per customer, product,
--     day or invoice, changed by MERGE from each run's change set, and read by the feature views there.
-- The shard count is the cluster's citus.shard_count (32 unless set before migrate).
-- Citus opens its connections to the workers as the current role, and every run acts as `transformer`
-- (loader/transform/owner.ts): that group role may log in here. It has no password: it reaches the
-- workers only the way the cluster's own nodes authenticate (trust on the cluster network, certificates,
-- or a password in pg_dist_authinfo), never through the service-facing pg_hba entries.
do $$
declare
  t text;
begin
  if not exists (select from pg_extension where extname = 'citus') then
    return;
  end if;
  alter role transformer login;
  alter role loader login;
  foreach t in array array['staging.transactions', 'core.transactions', 'core.duplicates', 'core.quarantine'] loop
    if not exists (select from pg_dist_partition where logicalrelid = t::regclass) then
      if t = 'staging.transactions' then
        perform create_distributed_table(t, 'load_id');
      else
        perform create_distributed_table(t, 'load_id', colocate_with => 'staging.transactions');
      end if;
      -- a database migrated before citus: its rows were copied to the shards; the coordinator's copy goes
      perform truncate_local_data_after_distributing_table(t);
    end if;
  end loop;
end
$$;

-- Down Migration
do $$
declare
  t text;
begin
  if not exists (select from pg_extension where extname = 'citus') then
    return;
  end if;
  foreach t in array array['core.quarantine', 'core.duplicates', 'core.transactions', 'staging.transactions'] loop
    if exists (select from pg_dist_partition where logicalrelid = t::regclass) then
      perform undistribute_table(t);
    end if;
  end loop;
  alter role transformer nologin;
  alter role loader nologin;
end
$$;
