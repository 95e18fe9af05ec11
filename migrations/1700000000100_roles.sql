-- Up Migration
-- Three NOLOGIN roles, granted to real login users (the compose stack makes one per service).
-- Roles are cluster-wide: created only when missing, and the down part only revokes what this
-- database granted (another database on the same server may still use them).
-- Two databases of one server migrated at once (the test files do) may both find a role missing: the
-- one that loses the race to create it gets a unique violation on pg_authid, and the role is there.
do $$
declare
  name text;
begin
  foreach name in array array['loader', 'transformer', 'analyst'] loop
    if not exists (select from pg_roles where rolname = name) then
      begin
        execute format('create role %I nologin', name);
      exception when unique_violation or duplicate_object then
        null;
      end;
    end if;
  end loop;
end
$$;

-- loader: writes staging and the ledger, nothing else.
grant usage on schema staging, meta to loader;
grant select, insert, update, delete on staging.transactions, staging.load_rejects, meta.loads to loader;

-- transformer: reads staging and the ledger, owns what core, features and meta hold.
grant usage on schema staging to transformer;
grant select on staging.transactions, staging.load_rejects, meta.loads to transformer;
grant usage, create on schema core, features, meta to transformer;
grant select, insert, update, delete, truncate on all tables in schema core to transformer;

-- analyst: read-only on the features schema (and meta.load_summary, granted where it is created).
grant usage on schema features, meta to analyst;
grant select on all tables in schema features to analyst;
alter default privileges in schema features grant select on tables to analyst;

-- Down Migration
alter default privileges in schema features revoke select on tables from analyst;
revoke all on all tables in schema features from analyst;
revoke usage on schema features, meta from analyst;
revoke all on all tables in schema core from transformer;
revoke all on schema core, features, meta from transformer;
revoke select on staging.transactions, staging.load_rejects, meta.loads from transformer;
revoke usage on schema staging from transformer;
revoke all on staging.transactions, staging.load_rejects, meta.loads from loader;
revoke usage on schema staging, meta from loader;
