#!/bin/sh
# The login roles of the compose services, from the environment: each one a member of one NOLOGIN
# role of the migrations (loader, transformer, analyst). Idempotent: creates what is missing and
# (re)sets every password, so it runs on every `docker compose up` and a changed .env takes effect.
# Runs as the superuser after the migrations; psql reads PGHOST, PGUSER, PGPASSWORD, PGDATABASE.
# Passwords go from the environment to psql's \getenv: never on a command line, never printed.
set -eu

for var in LOADER_DB_USER LOADER_DB_PASSWORD TRANSFORM_DB_USER TRANSFORM_DB_PASSWORD ANALYST_DB_USER ANALYST_DB_PASSWORD; do
  eval "value=\${$var:-}"
  if [ -z "$value" ]; then
    echo "service-roles: $var is not set (see .env.example)" >&2
    exit 2
  fi
done

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
set client_min_messages = warning;
begin;
\getenv loader_user LOADER_DB_USER
\getenv loader_password LOADER_DB_PASSWORD
\getenv transform_user TRANSFORM_DB_USER
\getenv transform_password TRANSFORM_DB_PASSWORD
\getenv analyst_user ANALYST_DB_USER
\getenv analyst_password ANALYST_DB_PASSWORD

create temporary table service_roles (login text, member_of text, password text, is_acting_as boolean);
insert into service_roles values
  (:'loader_user', 'loader', :'loader_password', true),
  (:'transform_user', 'transformer', :'transform_password', true),
  (:'analyst_user', 'analyst', :'analyst_password', false);

-- a login is a plain role of its own: never a group role, the superuser running this, or one login for two services
do $$
declare
  bad text;
begin
  select string_agg(login, ', ') into bad
    from service_roles
   where login in ('loader', 'transformer', 'analyst')
      or login = current_user
      or exists (select from pg_roles where rolname = login and rolsuper);
  if bad is not null then
    raise exception 'service-roles: % cannot be a service login (a group role or a superuser)', bad;
  end if;
  if (select count(distinct login) from service_roles) < 3 then
    raise exception 'service-roles: LOADER_DB_USER, TRANSFORM_DB_USER and ANALYST_DB_USER must differ';
  end if;
end
$$;

select format('create role %I', login) from service_roles where not exists (select from pg_roles where rolname = login) \gexec
select format('alter role %I with login nosuperuser nocreatedb nocreaterole inherit password %L', login, password) from service_roles \gexec
select format('grant %I to %I', member_of, login) from service_roles \gexec
-- loader and transform sessions act as their group role, so what they create belongs to it
select format('alter role %I set role %I', login, member_of) from service_roles where is_acting_as \gexec
select format('alter role %I reset role', login) from service_roles where not is_acting_as \gexec

commit;
select format('service roles ready: %s', string_agg(format('%s (%s)', login, member_of), ', ' order by member_of)) as done from service_roles \gset
\echo :done
SQL
