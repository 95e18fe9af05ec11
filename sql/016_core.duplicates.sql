-- core.duplicates: every clean row that is not kept, because an equal row loaded earlier is (data
-- contract §3). The placed rows (014) whose fate is duplicate come in, and so do the rows in core that a
-- late, earlier load took over from (015). When a kept row leaves, its copies here are placed again (013).
insert into core.duplicates (
    load_id, line_no, invoice_no, stock_code, description, quantity,
    invoice_date, unit_price, customer_id, country, line_amount, line_kind, row_hash
)
select
    placed.load_id, placed.line_no, placed.invoice_no, placed.stock_code, placed.description,
    placed.quantity, placed.invoice_date, placed.unit_price, placed.customer_id, placed.country,
    placed.line_amount, placed.line_kind, placed.row_hash
from pg_temp.transform_placed as placed
where placed.fate = 'duplicate'
union all
select displaced.*
from pg_temp.transform_displaced as displaced;
