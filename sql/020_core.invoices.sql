-- core.invoices: sale and cancellation lines per (invoice, date, line kind, customer, country): their
-- count, units and amount. Changed by the run's changes (015); a key whose count reaches zero leaves.
-- Read by core.customers (030) and core.days (032) for the touched customers and days only.
with

change as (
    select
        changes.line_kind,
        changes.invoice_no,
        changes.invoice_date,
        changes.customer_id,
        changes.country,
        sum(changes.sign) as lines,
        sum(changes.sign * changes.quantity) as units,
        sum(changes.sign * changes.line_amount) as amount
    from pg_temp.transform_changes as changes
    where changes.line_kind in ('sale', 'cancellation')
    group by changes.line_kind, changes.invoice_no, changes.invoice_date, changes.customer_id, changes.country
)

merge into core.invoices as invoices
using change
on invoices.invoice_no = change.invoice_no
    and invoices.invoice_date = change.invoice_date
    and invoices.line_kind = change.line_kind
    and invoices.customer_id is not distinct from change.customer_id
    and invoices.country is not distinct from change.country
when matched and invoices.lines + change.lines = 0 then delete
when matched then update set
    lines = invoices.lines + change.lines,
    units = invoices.units + change.units,
    amount = invoices.amount + change.amount
when not matched and change.lines > 0 then insert (line_kind, invoice_no, invoice_date, customer_id, country, lines, units, amount)
    values (change.line_kind, change.invoice_no, change.invoice_date, change.customer_id, change.country,
        change.lines, change.units, change.amount);
