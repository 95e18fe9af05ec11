-- Up Migration
-- The layers of the data contract and the stateful tables the loader and the transform write.

create schema if not exists staging;
create schema if not exists core;
create schema if not exists features;
create schema if not exists meta;

-- One row per file load (contract §2). Only `complete` loads are visible downstream.
create table meta.loads (
  load_id       bigint generated always as identity primary key,
  source        text        not null,
  sha256        text        not null check (sha256 ~ '^[0-9a-f]{64}$'),
  byte_size     bigint      check (byte_size >= 0),
  rows_read     bigint      check (rows_read >= 0),
  rows_staged   bigint      check (rows_staged >= 0),
  rows_rejected bigint      check (rows_rejected >= 0),
  status        text        not null default 'running' check (status in ('running', 'complete', 'failed')),
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  error         text,
  -- the accounting invariant is part of what "complete" means
  constraint loads_complete_is_accounted check (
    status <> 'complete'
    or (rows_read is not null and rows_staged is not null and rows_rejected is not null
        and rows_read = rows_staged + rows_rejected and finished_at is not null)
  )
);
-- The same bytes have at most one complete load, and at most one load in progress.
create unique index loads_sha256_complete on meta.loads (sha256) where status = 'complete';
create unique index loads_sha256_running on meta.loads (sha256) where status = 'running';

-- Good records, verbatim as text. line_no: the physical line (header = 1) where the record starts.
create table staging.transactions (
  load_id      bigint  not null,
  line_no      bigint  not null,
  invoice_no   text,
  stock_code   text,
  description  text,
  quantity     text,
  invoice_date text,
  unit_price   text,
  customer_id  text,
  country      text,
  constraint transactions_pkey primary key (load_id, line_no)
);

-- Records that could not be staged, with their raw bytes (cut at 64 KiB) and why.
create table staging.load_rejects (
  load_id  bigint not null references meta.loads (load_id) on delete cascade,
  line_no  bigint not null check (line_no >= 1),
  raw      bytea  not null check (octet_length(raw) <= 65536),
  reason   text   not null check (reason in ('field_count', 'unterminated_quote', 'invalid_utf8', 'nul_byte', 'record_too_large')),
  constraint load_rejects_pkey primary key (load_id, line_no)
);

-- Typed, deduplicated, classified facts (contract §3).
create table core.transactions (
  load_id      bigint        not null,
  line_no      bigint        not null,
  invoice_no   text          not null,
  stock_code   text          not null,
  description  text,
  quantity     integer       not null,
  invoice_date timestamp     not null,
  unit_price   numeric       not null,
  customer_id  integer,
  country      text,
  line_amount  numeric       not null,
  line_kind    text          not null check (line_kind in ('sale', 'cancellation', 'adjustment', 'fee')),
  constraint transactions_pkey primary key (load_id, line_no),
  constraint transactions_line_amount check (line_amount = quantity * unit_price)
);

-- Staged rows that could not be parsed, with the first reason that applies.
create table core.quarantine (
  load_id      bigint not null,
  line_no      bigint not null,
  invoice_no   text,
  stock_code   text,
  description  text,
  quantity     text,
  invoice_date text,
  unit_price   text,
  customer_id  text,
  country      text,
  reason       text   not null check (reason in (
    'missing_invoice_no', 'missing_stock_code', 'bad_quantity',
    'bad_unit_price', 'bad_invoice_date', 'bad_customer_id')),
  constraint quarantine_pkey primary key (load_id, line_no)
);

-- Down Migration
drop table if exists core.quarantine;
drop table if exists core.transactions;
drop table if exists staging.load_rejects;
drop table if exists staging.transactions;
drop table if exists meta.loads;
drop schema if exists meta cascade;
drop schema if exists features cascade;
drop schema if exists core cascade;
drop schema if exists staging cascade;
