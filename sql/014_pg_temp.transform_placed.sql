-- pg_temp.transform_placed: the clean rows this run places that are NOT simply kept (data contract §3: of
-- equal rows the first loaded, by load_id then line_no, is kept; the others are duplicates). The rows
-- placed are the batch's clean rows and the promoted copies (013); every one of them not listed here is
-- kept (015). Rows are ranked among their equals only where their dedup hash is shared in the run, so a
-- full rebuild sorts the few rows that have a copy rather than every row. The first of its equals is
-- matched with the equal row already in core, if any (by the dedup hash, then every value). Fates:
--   duplicate  not the first of its equals in the run, or an earlier equal row is in core;
--   take_over  the equal row in core comes from a later load (an earlier load completed late): this one
--              is kept and that one becomes a duplicate (core_load_id, core_line_no).
-- pg_temp.transform_candidates: the rows placed (015 keeps every one of them not listed below). A temporary
-- view: it goes at commit with the tables it reads.
create temp view transform_candidates as
select
    parsed.load_id, parsed.line_no, parsed.invoice_no, parsed.stock_code, parsed.description,
    parsed.quantity, parsed.invoice_date, parsed.unit_price, parsed.customer_id, parsed.country,
    parsed.line_amount, parsed.line_kind, parsed.row_hash
from pg_temp.transform_parsed as parsed
where parsed.reason is null
union all
select * from pg_temp.transform_promoted;

-- pg_temp.transform_matches: each placed row that has an equal row in core (by the dedup hash, then every
-- value; core holds no two equal rows, so one at most). None in a full rebuild: core is empty. The probes
-- are a table of their own (empty in a full rebuild), and so are the matches: on Citus only the probes go
-- to the workers, each matched over its own shards (Citus ships each local table a join with a shard reads
-- whole, before any filter), and the ranking below reads no distributed table.
create temp table transform_probes on commit drop as
select candidates.*
from pg_temp.transform_candidates as candidates
where not (select current_setting('transform.is_full')::boolean);

create temp table transform_matches on commit drop as
select
    probes.load_id,
    probes.line_no,
    transactions.load_id as core_load_id,
    transactions.line_no as core_line_no
from pg_temp.transform_probes as probes
inner join core.transactions as transactions
    on transactions.row_hash = probes.row_hash
    and transactions.invoice_no = probes.invoice_no
    and transactions.stock_code = probes.stock_code
    and transactions.description is not distinct from probes.description
    and transactions.quantity = probes.quantity
    and transactions.invoice_date = probes.invoice_date
    and transactions.unit_price = probes.unit_price
    and transactions.customer_id is not distinct from probes.customer_id
    and transactions.country is not distinct from probes.country;

analyze pg_temp.transform_matches;

create temp table transform_placed on commit drop as
with

candidates as not materialized (
    select * from pg_temp.transform_candidates
),

-- the dedup hashes that two or more placed rows share: found from the hash column alone, sorted then
-- counted (a hash table of a full rebuild's million distinct hashes, 115MB, took 1.5 s to fill against
-- 1.0 s for the sort), and never from a copy of the wide candidates (a CTE read three times, written whole
-- to disk: the statement took 2.4 s against 1.3 s at 1M rows)
shared_hashes as materialized (
    select sorted.row_hash
    from (
        select hashes.row_hash
        from (
            select parsed.row_hash from pg_temp.transform_parsed as parsed where parsed.reason is null
            union all
            select promoted.row_hash from pg_temp.transform_promoted as promoted
        ) as hashes
        order by hashes.row_hash
        offset 0
    ) as sorted
    group by sorted.row_hash
    having count(*) > 1
),

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by
                candidates.row_hash, candidates.invoice_no, candidates.stock_code, candidates.description,
                candidates.quantity, candidates.invoice_date, candidates.unit_price, candidates.customer_id,
                candidates.country
            order by candidates.load_id, candidates.line_no
        ) > 1 as is_copy
    from candidates
    where candidates.row_hash in (select shared_hashes.row_hash from shared_hashes)
    union all
    -- a row with no copy in the run is placed apart from being kept only when it matches a row in core: when
    -- nothing matched (a full rebuild, and most days) this branch is not read at all (a one-time filter)
    select candidates.*, false as is_copy
    from candidates
    where exists (select from pg_temp.transform_matches)
        and candidates.row_hash not in (select shared_hashes.row_hash from shared_hashes)
),

matched as (
    select
        ranked.*,
        matches.core_load_id,
        matches.core_line_no
    from ranked
    left join pg_temp.transform_matches as matches
        on not ranked.is_copy and matches.load_id = ranked.load_id and matches.line_no = ranked.line_no
),

final as (
    select
        matched.*,
        case
            when matched.is_copy then 'duplicate'
            when (matched.core_load_id, matched.core_line_no) > (matched.load_id, matched.line_no) then 'take_over'
            else 'duplicate'
        end as fate
    from matched
    where matched.is_copy or matched.core_load_id is not null
)

select * from final;

create index on pg_temp.transform_placed (load_id, line_no);

analyze pg_temp.transform_placed;
