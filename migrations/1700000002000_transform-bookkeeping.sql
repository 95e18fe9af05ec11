-- Up Migration
-- What the transform runner (loader/transform/) keeps between runs, and the deduplication key of core.

-- One row per transform run: when, how it went, what each sql/ file took.
create table meta.transform_runs (
  run_id        bigint      generated always as identity primary key,
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  status        text        not null default 'running' check (status in ('running', 'complete', 'failed')),
  is_full       boolean     not null,
  -- why the run was full (or null when incremental): 'requested', 'first run', 'sql/… changed', 'load 7 no longer complete', …
  full_reason   text,
  loads_processed integer,
  rows_processed  bigint,
  -- [{ "file": "sql/…", "action": "run" | "create" | "refresh" | "skip", "ms": 12, "rows": 34 }, …]
  files         jsonb       not null default '[]',
  error         text
);

-- The sql/ files applied to this database, with the sha256 of the text that defined their object.
create table meta.transform_files (
  file        text        primary key,
  object_name text        not null,
  sha256      text        not null check (sha256 ~ '^[0-9a-f]{64}$'),
  applied_at  timestamptz not null default now()
);

-- Every complete load the transform has turned into core rows, with its accounting.
-- rows_staged = rows_clean + rows_quarantined + rows_duplicate holds for each row.
create table meta.transform_loads (
  load_id          bigint primary key,
  run_id           bigint not null,
  rows_staged      bigint not null,
  rows_clean       bigint not null,
  rows_quarantined bigint not null,
  rows_duplicate   bigint not null,
  constraint transform_loads_accounted check (rows_staged = rows_clean + rows_quarantined + rows_duplicate)
);

-- Contract §3: rows whose eight parsed values are all equal are one row (NULLs count as equal).
create unique index transactions_dedup_key on core.transactions
  (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) nulls not distinct;

-- The transformer role owns these as it owns core.
grant select, insert, update, delete, truncate on meta.transform_runs, meta.transform_files, meta.transform_loads to transformer;

-- Down Migration
revoke all on meta.transform_runs, meta.transform_files, meta.transform_loads from transformer;
drop index if exists core.transactions_dedup_key;
drop table if exists meta.transform_loads;
drop table if exists meta.transform_files;
drop table if exists meta.transform_runs;
