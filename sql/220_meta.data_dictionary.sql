-- meta.data_dictionary: every column of every relation people read, with its type and meaning, from the
-- database's own comments (COMMENT ON, set where each object is defined). The published relations: all of
-- schema features, the meta views, and the ledger, staging and core tables the engineers inspect.
-- One row per column; the relation's own comment repeated on each of its rows.
create view meta.data_dictionary as
with

published as (
    select
        relations.oid as relation_oid,
        namespaces.nspname as schema_name,
        relations.relname as relation_name,
        relations.relkind
    from pg_catalog.pg_class as relations
    inner join pg_catalog.pg_namespace as namespaces on namespaces.oid = relations.relnamespace
    where relations.relkind in ('r', 'p', 'v', 'm')
        and (
            namespaces.nspname = 'features'
            or (namespaces.nspname, relations.relname) in (
                ('meta', 'load_summary'),
                ('meta', 'transform_history'),
                ('meta', 'transform_file_timings'),
                ('meta', 'data_dictionary'),
                ('meta', 'loads'),
                ('core', 'transactions'),
                ('core', 'quarantine'),
                ('staging', 'transactions'),
                ('staging', 'load_rejects')
            )
        )
),

columns as (
    select
        published.*,
        attributes.attnum,
        attributes.attname,
        pg_catalog.format_type(attributes.atttypid, attributes.atttypmod) as data_type,
        not attributes.attnotnull as is_nullable
    from published
    inner join pg_catalog.pg_attribute as attributes on attributes.attrelid = published.relation_oid
    where attributes.attnum > 0 and not attributes.attisdropped
),

final as (
    select
        columns.schema_name::text as schema_name,
        columns.relation_name::text as relation_name,
        case columns.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end as relation_kind,
        pg_catalog.obj_description(columns.relation_oid, 'pg_class') as relation_comment,
        columns.attnum::integer as column_position,
        columns.attname::text as column_name,
        columns.data_type,
        columns.is_nullable,
        pg_catalog.col_description(columns.relation_oid, columns.attnum) as column_comment,
        pg_catalog.has_table_privilege('analyst', columns.relation_oid, 'select') as is_readable_by_analyst
    from columns
)

select * from final
order by schema_name, relation_name, column_position;

grant select on meta.data_dictionary to analyst;

comment on view meta.data_dictionary is 'The data dictionary: one row per column of every published relation (schema features, the meta views, the load ledger, staging and core tables), with its type and its meaning, read live from the database''s own comments.';
comment on column meta.data_dictionary.schema_name is 'Schema of the relation: features (what analysts read), meta (ledger, runs, summaries), core (clean facts), staging (raw text).';
comment on column meta.data_dictionary.relation_name is 'Name of the table or view.';
comment on column meta.data_dictionary.relation_kind is 'table, view or materialized view.';
comment on column meta.data_dictionary.relation_comment is 'What the relation holds (its COMMENT ON).';
comment on column meta.data_dictionary.column_position is 'Position of the column in the relation, from 1.';
comment on column meta.data_dictionary.column_name is 'Name of the column.';
comment on column meta.data_dictionary.data_type is 'PostgreSQL type of the column, as psql shows it.';
comment on column meta.data_dictionary.is_nullable is 'Whether the column may be null (always true for view columns: PostgreSQL does not track it).';
comment on column meta.data_dictionary.column_comment is 'What the column means (its COMMENT ON).';
comment on column meta.data_dictionary.is_readable_by_analyst is 'Whether the read-only role analyst may select from the relation.';
