-- Up Migration
-- PostgreSQL 17 and later: MAINTAIN lets a role ANALYZE (VACUUM, REINDEX, REFRESH) a table it does not
-- own. The transform, running as `transformer` in the compose stack, may then refresh the statistics of
-- the rows it reads (staging rows loaded seconds earlier have none yet) and of the tables it writes.
-- On 15 and 16 there is no such privilege: only the owner (the migrating role) can.
do $$
begin
  if current_setting('server_version_num')::int >= 170000 then
    execute 'grant maintain on staging.transactions, staging.load_rejects, meta.loads to transformer';
    execute 'grant maintain on core.transactions, core.quarantine to transformer';
    execute 'grant maintain on meta.transform_runs, meta.transform_files, meta.transform_loads to transformer';
  end if;
end
$$;

-- Down Migration
do $$
begin
  if current_setting('server_version_num')::int >= 170000 then
    execute 'revoke maintain on meta.transform_runs, meta.transform_files, meta.transform_loads from transformer';
    execute 'revoke maintain on core.transactions, core.quarantine from transformer';
    execute 'revoke maintain on staging.transactions, staging.load_rejects, meta.loads from transformer';
  end if;
end
$$;
