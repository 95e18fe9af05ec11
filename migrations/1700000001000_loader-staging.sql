-- Up Migration
-- What the loader (loader/load/, issue 3) needs of the contract tables.

-- 1. staging.transactions: the primary key (load_id, line_no) made COPY into staging about 1.7x slower
--    (1,000,000 rows on the embedded server: ~2.7 s without it, ~4.3-5.5 s with it; a plain btree on
--    load_id cost as much). line_no is unique within a load by construction: the loader numbers each
--    record once, and a load only becomes complete when the server's COPY row counts equal the records
--    it sent (rows_read = rows_staged + rows_rejected). A BRIN index on load_id (cheap to maintain,
--    rows of one load are written together) keeps "the rows of load N" reads and deletes fast.
alter table staging.transactions drop constraint transactions_pkey;
create index transactions_load_id_brin on staging.transactions using brin (load_id) with (autosummarize = on);

-- 2. A stream source (stdin, a URL) has its sha256 only once it has been read to the end: the ledger row
--    of such a load has sha256 null while it runs; a complete load always has one (and the unique index
--    loads_sha256_complete keeps the same bytes from being complete twice).
alter table meta.loads alter column sha256 drop not null;
alter table meta.loads add constraint loads_complete_has_sha256 check (status <> 'complete' or sha256 is not null);

-- Down Migration
alter table meta.loads drop constraint if exists loads_complete_has_sha256;
-- stream loads that never completed have no sha256: drop them (and what they staged) to restore not null
delete from staging.transactions where load_id in (select load_id from meta.loads where sha256 is null);
delete from meta.loads where sha256 is null;
alter table meta.loads alter column sha256 set not null;
drop index if exists staging.transactions_load_id_brin;
alter table staging.transactions add constraint transactions_pkey primary key (load_id, line_no);
