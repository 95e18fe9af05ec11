-- core.transactions: the kept rows (data contract §3). Every row this run places (the batch's clean rows and
-- the promoted copies, 013) comes in unless 014 lists it as a duplicate; the rows in core that a late,
-- earlier load takes over from (014's take_over) go out, to core.duplicates (016). Every row that comes or
-- goes is written to pg_temp.transform_changes (sign +1 or -1), from which the summaries (020-032) change.
-- A statement marked `-- when: full` runs only in a full rebuild, `-- when: incremental` only otherwise.
--
-- pg_temp.transform_changes is a table, written once and analyzed: the summary statements that read it scan
-- it, rather than each evaluating the placed rows less the duplicates again.
--
-- A full rebuild (core emptied by the runner, its indexes built again after this file:
-- loader/transform/bulk.ts) inserts every row that comes in into core in bulk and writes no changes: they
-- are every row of core, +1, and the runner makes pg_temp.transform_changes from core once this file has
-- filled it (FROM_CORE in loader/transform/deps.ts, as a selective rebuild does): a view over core on
-- PostgreSQL (each row is written once, not twice), a table read once from core on Citus (a summary's MERGE
-- then reads no distributed table).
-- when: incremental
create temp table transform_changes (sign integer not null, like core.transactions) on commit drop;

create temp table transform_displaced (like core.transactions) on commit drop;

-- when: incremental
with

displaced as (
    delete from core.transactions as transactions
    using pg_temp.transform_placed as placed
    where placed.fate = 'take_over'
        and transactions.load_id = placed.core_load_id
        and transactions.line_no = placed.core_line_no
    returning transactions.*
)

insert into pg_temp.transform_displaced
select * from displaced;

-- when: incremental
with

inserted as (
    insert into core.transactions (
        load_id, line_no, invoice_no, stock_code, description, quantity,
        invoice_date, unit_price, customer_id, country, line_amount, line_kind, row_hash
    )
    select candidates.*
    from pg_temp.transform_candidates as candidates
    where not exists (
        select from pg_temp.transform_placed as placed
        where placed.load_id = candidates.load_id and placed.line_no = candidates.line_no and placed.fate = 'duplicate'
    )
    returning *
)

insert into pg_temp.transform_changes
select 1, inserted.* from inserted;

-- when: incremental
insert into pg_temp.transform_changes
select -1, removed.load_id, removed.line_no, removed.invoice_no, removed.stock_code, removed.description,
    removed.quantity, removed.invoice_date, removed.unit_price, removed.customer_id, removed.country,
    removed.line_amount, removed.line_kind, removed.row_hash
from pg_temp.transform_removed as removed
where removed.is_kept
union all
select -1, displaced.*
from pg_temp.transform_displaced as displaced;

-- when: full
insert into core.transactions (
    load_id, line_no, invoice_no, stock_code, description, quantity,
    invoice_date, unit_price, customer_id, country, line_amount, line_kind, row_hash
)
select candidates.*
from pg_temp.transform_candidates as candidates
where not exists (
    select from pg_temp.transform_placed as placed
    where placed.load_id = candidates.load_id and placed.line_no = candidates.line_no and placed.fate = 'duplicate'
);

-- when: incremental
analyze pg_temp.transform_changes;
