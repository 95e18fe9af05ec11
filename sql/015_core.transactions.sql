-- core.transactions: the kept rows (data contract §3). Every row this run places (the batch's clean rows and
-- the promoted copies, 013) comes in unless 014 lists it as a duplicate; the rows in core that a late,
-- earlier load takes over from (014's take_over) go out, to core.duplicates (016). Every row that comes or
-- goes is written to pg_temp.transform_delta (sign +1 or -1), from which the summaries (020-032) change.
-- A full rebuild (core emptied by the runner, its indexes built again after this file:
-- loader/transform/bulk.ts) inserts in bulk and leaves the delta empty: the summaries then read every row
-- that came in. A statement marked `-- when: full` runs only then, `-- when: incremental` only otherwise.
create temp table transform_delta (sign integer not null, like core.transactions) on commit drop;

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

insert into pg_temp.transform_delta
select 1, inserted.* from inserted;

-- when: incremental
insert into pg_temp.transform_delta
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

-- pg_temp.transform_changes: what the summaries change by: the delta, or in a full rebuild every row that
-- came in (every one +1: the rows placed less the duplicates, as inserted above). It reads the run's own
-- tables, never core: on Citus a summary's MERGE then reads no distributed table. A temporary view: it goes
-- at commit with the tables it reads.
create temp view transform_changes as
select
    1 as sign, candidates.load_id, candidates.line_no, candidates.invoice_no, candidates.stock_code,
    candidates.description, candidates.quantity, candidates.invoice_date, candidates.unit_price,
    candidates.customer_id, candidates.country, candidates.line_amount, candidates.line_kind, candidates.row_hash
from pg_temp.transform_candidates as candidates
where (select current_setting('transform.is_full')::boolean)
    and not exists (
        select from pg_temp.transform_placed as placed
        where placed.load_id = candidates.load_id and placed.line_no = candidates.line_no and placed.fate = 'duplicate'
    )
union all
select
    delta.sign, delta.load_id, delta.line_no, delta.invoice_no, delta.stock_code, delta.description,
    delta.quantity, delta.invoice_date, delta.unit_price, delta.customer_id, delta.country, delta.line_amount,
    delta.line_kind, delta.row_hash
from pg_temp.transform_delta as delta
where not (select current_setting('transform.is_full')::boolean);
