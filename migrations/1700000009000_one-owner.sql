-- Up Migration
-- One owner for everything the pipeline maintains, whoever runs migrate or transform: `transformer`.
-- core's tables (facts and summaries), every object of features (the feature views, training_set()), the
-- transform's bookkeeping (meta.transform_runs, transform_files, transform_loads) and the meta views that
-- sql/ defines go to it. The loader's side (staging, meta.loads) stays with the migrating role.
-- Why the owner: only an owner may drop and rebuild a table's indexes (the bulk path of a full rebuild,
-- loader/transform/bulk.ts), replace a view whose definition changed, or comment on its columns. The
-- transform acts as `transformer` (SET LOCAL ROLE, loader/transform/owner.ts), so the service login, the
-- superuser and any member of it all work on the same objects as the same role: before this, a database
-- whose first transform ran as the superuser had feature views the service login could not refresh, and
-- core's indexes stayed in place under the service login (a full rebuild 1.6x slower on the bundled data).
-- Databases deployed before this are fixed here. Needs a migrating role that may act as transformer
-- (the superuser, in the compose stack); for another, nothing changes and the transform says why.
do $$
declare
  r record;
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not pg_has_role(current_user, 'transformer', 'MEMBER') then
    raise notice 'one owner: % may not act as transformer; ownership unchanged', current_user;
    return;
  end if;
  for r in
    select format('alter %s %I.%I owner to transformer',
                  case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
                  n.nspname, c.relname) as sql
      from pg_class as c
      join pg_namespace as n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'v', 'm')
       and (n.nspname in ('core', 'features')
            or (n.nspname = 'meta' and c.relname not in ('loads')))
       and pg_get_userbyid(c.relowner) <> 'transformer'
  loop
    execute r.sql;
  end loop;
  for r in
    select format('alter function %s owner to transformer', p.oid::regprocedure) as sql
      from pg_proc as p
      join pg_namespace as n on n.oid = p.pronamespace
     where n.nspname = 'features' and pg_get_userbyid(p.proowner) <> 'transformer'
  loop
    execute r.sql;
  end loop;
end
$$;

-- Down Migration
-- back to the migrating role (what the transform created before this stays as it is made next time)
do $$
declare
  r record;
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not pg_has_role(current_user, 'transformer', 'MEMBER') then
    return;
  end if;
  for r in
    select format('alter table %I.%I owner to %I', n.nspname, c.relname, current_user) as sql
      from pg_class as c
      join pg_namespace as n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p')
       and (n.nspname = 'core' or (n.nspname = 'meta' and c.relname in ('transform_runs', 'transform_files', 'transform_loads')))
  loop
    execute r.sql;
  end loop;
end
$$;
