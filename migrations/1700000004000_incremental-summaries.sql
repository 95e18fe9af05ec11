-- Up Migration
-- Incremental transform (issue 9): a narrow dedup key on core, the duplicates kept as rows, and the keyed
-- summaries that each run changes by its delta and that the features views are published from.
-- All of them are state (a run adds to them), so they live here; sql/ files fill them. Keys lead with the
-- customer or the product, so a later move to a distributed PostgreSQL can shard them by it.

-- 1. Dedup by a 64-bit hash of the eight parsed values instead of a unique index on eight text columns.
--    Equal hashes are always confirmed by comparing the values, so a collision never drops a row.
--    The hash XORs one seeded hash per value (null: 0); numeric hashing ignores trailing zeros, so 1.5 and
--    1.50 (equal unit prices) hash alike. sql/010_pg_temp.transform_parsed.sql computes the same.
alter table core.transactions add column row_hash bigint;
update core.transactions set row_hash =
  coalesce(hashtextextended(invoice_no, 1), 0) # coalesce(hashtextextended(stock_code, 2), 0)
  # coalesce(hashtextextended(description, 3), 0) # coalesce(hashint4extended(quantity, 4), 0)
  # coalesce(timestamp_hash_extended(invoice_date, 5), 0) # coalesce(hash_numeric_extended(unit_price, 6), 0)
  # coalesce(hashint4extended(customer_id, 7), 0) # coalesce(hashtextextended(country, 8), 0);
alter table core.transactions alter column row_hash set not null;
drop index if exists core.transactions_dedup_key;
create index transactions_row_hash on core.transactions (row_hash);

-- 2. Every clean row that was not kept: a copy of a kept row (contract §3, "the first loaded is kept").
--    Kept as rows so that when the kept row leaves (its load replaced or failed) the next copy takes over,
--    and when an earlier load arrives late its copy takes over from a later one, without a rebuild.
create table core.duplicates (like core.transactions including defaults including constraints);
alter table core.duplicates add constraint duplicates_pkey primary key (load_id, line_no);
create index duplicates_row_hash on core.duplicates (row_hash);

-- 3. Fine summaries, each a count of core lines per key (a key leaves when its count reaches zero).
-- sale and cancellation lines per invoice, date, customer and country: customers' and days' figures.
create table core.invoices (
  line_kind    text      not null check (line_kind in ('sale', 'cancellation')),
  invoice_no   text      not null,
  invoice_date timestamp not null,
  customer_id  integer,
  country      text,
  lines        bigint    not null check (lines > 0),
  units        bigint    not null,
  amount       numeric   not null
);
create unique index invoices_key on core.invoices (invoice_no, invoice_date, line_kind, customer_id, country) nulls not distinct;
create index invoices_customer_id on core.invoices (customer_id);
create index invoices_invoice_date on core.invoices (invoice_date);

-- Distinct counts and date ranges per product and customer are read from core through three partial
-- indexes of sale lines (cheaper to build after a bulk insert than pair tables, and probed per key the
-- run touches): orders of a product, customers of a product and distinct products of a customer (a key
-- that appears or leaves changes them by one), first and last sale date of a product (two probes).
create index transactions_sale_stock_code_invoice_no on core.transactions (stock_code, invoice_no) where line_kind = 'sale';
create index transactions_sale_customer_id_stock_code on core.transactions (customer_id, stock_code)
  where line_kind = 'sale' and customer_id is not null;
create index transactions_sale_stock_code_invoice_date on core.transactions (stock_code, invoice_date) where line_kind = 'sale';

-- sale lines per (product, description): the most frequent description.
create table core.product_descriptions (
  stock_code  text   not null,
  description text   not null,
  lines       bigint not null check (lines > 0),
  constraint product_descriptions_pkey primary key (stock_code, description)
);

-- sale lines and amount per (customer, month): the cohorts.
create table core.customer_months (
  customer_id    integer not null,
  activity_month date    not null,
  lines          bigint  not null check (lines > 0),
  amount         numeric not null,
  constraint customer_months_pkey primary key (customer_id, activity_month)
);

-- 4. Entities: one row per customer, product and day, their figures before rounding and ranking.
create table core.customers (
  customer_id       integer   primary key,
  country           text,
  first_purchase_at timestamp not null,
  last_purchase_at  timestamp not null,
  frequency         bigint    not null,
  monetary          numeric   not null,
  units             bigint    not null,
  distinct_products bigint    not null,
  returns_value     numeric   not null
);

create table core.products (
  stock_code         text    primary key,
  sale_lines         bigint  not null check (sale_lines >= 0),
  cancellation_lines bigint  not null check (cancellation_lines >= 0),
  description        text,
  units              bigint  not null,
  revenue            numeric not null,
  orders             bigint  not null,
  customers          bigint  not null,
  returned_units     bigint  not null,
  first_sale_date    date,
  last_sale_date     date
);

create table core.days (
  day            date    primary key,
  -- every line of the day (any kind): as_of_date; sale and cancellation lines: the published days
  lines          bigint  not null check (lines > 0),
  sale_cancellation_lines bigint not null,
  orders         bigint  not null,
  units          bigint  not null,
  gross_revenue  numeric not null,
  returns_value  numeric not null,
  customers      bigint  not null
);

comment on column core.transactions.row_hash is 'Dedup hash of the eight parsed values (one seeded 64-bit hash per value, XORed; null values count as 0). Equal rows hash alike; equal hashes are always confirmed by comparing the values.';
comment on table core.duplicates is 'Clean rows that were not kept because an equal row loaded earlier is in core.transactions (same columns). When the kept row leaves, its first copy here takes its place.';
comment on table core.invoices is 'Sale and cancellation lines per (invoice, date, line kind, customer, country): lines, units, amount. Kept up to date by each transform from the rows that came into or left core.';
comment on table core.product_descriptions is 'Sale lines with a description per (product, description): the most frequent one is the product''s description.';
comment on table core.customer_months is 'Sale lines and amount per (customer, month): the cohorts.';
comment on table core.customers is 'One row per customer with a sale line: the figures of features.customer_features before rounding and ranking.';
comment on table core.products is 'One row per product with a sale or cancellation line: the figures of features.product_features before rounding.';
comment on table core.days is 'One row per day with a line of any kind: its lines (the latest day gives as_of_date) and the figures of features.daily_sales before rounding.';

grant select, insert, update, delete, truncate on
  core.duplicates, core.invoices, core.product_descriptions, core.customer_months, core.customers, core.products, core.days
  to transformer;

do $$
begin
  if current_setting('server_version_num')::int >= 170000 then
    execute 'grant maintain on core.duplicates, core.invoices, core.product_descriptions, core.customer_months, core.customers, core.products, core.days
      to transformer';
  end if;
end
$$;

-- Down Migration
drop table if exists core.days cascade;
drop table if exists core.products cascade;
drop table if exists core.customers cascade;
drop table if exists core.customer_months cascade;
drop table if exists core.product_descriptions;
drop index if exists core.transactions_sale_stock_code_invoice_date;
drop index if exists core.transactions_sale_customer_id_stock_code;
drop index if exists core.transactions_sale_stock_code_invoice_no;
drop table if exists core.invoices;
drop table if exists core.duplicates;
drop index if exists core.transactions_row_hash;
create unique index transactions_dedup_key on core.transactions
  (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) nulls not distinct;
alter table core.transactions drop column row_hash;
