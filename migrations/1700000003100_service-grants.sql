-- Up Migration
-- What the services' login roles need beyond 1700000000100_roles (the compose stack logs the loader
-- in as a member of `loader`, acting as it, and the transform as a member of `transformer`).

-- Every command checks for pending migrations when it starts. node-pg-migrate finds its table and
-- the table's primary key through information_schema, which shows a table's constraints only to
-- roles with a privilege on it other than select: `references` is the harmless one.
do $$
begin
  if to_regclass('public.pgmigrations') is not null then
    grant select, references on public.pgmigrations to loader, transformer;
  end if;
end
$$;

-- What the transform creates in features while acting as `transformer` is readable by analyst,
-- also after a changed definition re-creates it. (Needs a migrator that may act for transformer.)
do $$
begin
  if pg_has_role(current_user, 'transformer', 'MEMBER') then
    alter default privileges for role transformer in schema features grant select on tables to analyst;
  end if;
end
$$;

-- Down Migration
do $$
begin
  if pg_has_role(current_user, 'transformer', 'MEMBER') then
    alter default privileges for role transformer in schema features revoke select on tables from analyst;
  end if;
end
$$;

do $$
begin
  if to_regclass('public.pgmigrations') is not null then
    revoke select, references on public.pgmigrations from loader, transformer;
  end if;
end
$$;
