-- Up Migration
-- The meaning of every column of the tables the migrations own (data contract §2 and §3), stored in the
-- database itself: psql \d+, DBeaver, Metabase and the report's data dictionary (meta.data_dictionary)
-- show these words. The derived objects (features.*, meta views) are commented by the sql/ files that
-- define them.

comment on table meta.loads is 'The load ledger: one row per file (or stream, or paginated pull) the loader read. Only complete loads are visible downstream; for a complete load rows_read = rows_staged + rows_rejected.';
comment on column meta.loads.load_id is 'Identifier of the load, increasing in the order loads were started; every staged, rejected, quarantined and core row carries it.';
comment on column meta.loads.source is 'What was loaded, as given: the file path, the URL, or - for standard input.';
comment on column meta.loads.sha256 is 'SHA-256 of the bytes read (hex). The same bytes are loaded once: a second complete load of them is skipped unless forced. Null while a stream is still being read.';
comment on column meta.loads.byte_size is 'Size in bytes of what was read (the compressed size for a .csv.gz).';
comment on column meta.loads.rows_read is 'Records read after the header (CSV) or objects read (JSON); equals rows_staged + rows_rejected for a complete load.';
comment on column meta.loads.rows_staged is 'Records written verbatim to staging.transactions.';
comment on column meta.loads.rows_rejected is 'Records that could not be staged, written to staging.load_rejects with their reason.';
comment on column meta.loads.status is 'running (being read), complete (every record accounted for, visible downstream) or failed (nothing of it is visible).';
comment on column meta.loads.started_at is 'When the load started.';
comment on column meta.loads.finished_at is 'When the load became complete or failed; null while running.';
comment on column meta.loads.error is 'Why the load failed (null unless failed).';

comment on table staging.transactions is 'The good records of every load, verbatim as text, one row per invoice line as read: nothing is trimmed, typed or deduplicated here (the transform does that).';
comment on column staging.transactions.load_id is 'The load (meta.loads) the record came from.';
comment on column staging.transactions.line_no is 'The physical line, counting from 1 with the header, on which the record starts (JSON Lines: the line; a JSON document: the record''s ordinal from 1).';
comment on column staging.transactions.invoice_no is 'Invoice number as read (header InvoiceNo or Invoice). A leading C marks a cancellation, a leading A an adjustment.';
comment on column staging.transactions.stock_code is 'Product code as read (header StockCode).';
comment on column staging.transactions.description is 'Product description as read (header Description).';
comment on column staging.transactions.quantity is 'Quantity as read (header Quantity); negative on cancellations.';
comment on column staging.transactions.invoice_date is 'Invoice date and time as read (header InvoiceDate): YYYY-MM-DD HH:MM[:SS] or M/D/YYYY H:MM[:SS].';
comment on column staging.transactions.unit_price is 'Unit price as read (header UnitPrice or Price), in the shop''s currency (pounds sterling in the bundled data).';
comment on column staging.transactions.customer_id is 'Customer number as read (header CustomerID or Customer ID); empty for a guest.';
comment on column staging.transactions.country is 'Country of the customer as read (header Country).';

comment on table staging.load_rejects is 'Records the loader could not stage, never fatal to the load: the raw bytes (cut at 64 KiB) and why.';
comment on column staging.load_rejects.load_id is 'The load (meta.loads) the record came from.';
comment on column staging.load_rejects.line_no is 'The physical line, counting from 1 with the header, on which the record starts.';
comment on column staging.load_rejects.raw is 'The record''s raw bytes as read, cut at 64 KiB (bytea, so that invalid UTF-8 and NUL bytes survive).';
comment on column staging.load_rejects.reason is 'Why it was rejected: field_count (not as many fields as the header), unterminated_quote, invalid_utf8, nul_byte, record_too_large (over 1 MiB); for JSON sources invalid_json or nested_value.';

comment on table core.transactions is 'The clean invoice lines: trimmed, typed, deduplicated across every load ever made (the first loaded copy is kept) and classified by line_kind. The source of every features view.';
comment on column core.transactions.load_id is 'The load the kept copy of the line came from.';
comment on column core.transactions.line_no is 'The line of that load on which the record starts (with load_id, the key of the row).';
comment on column core.transactions.invoice_no is 'Invoice number, trimmed.';
comment on column core.transactions.stock_code is 'Product code, trimmed.';
comment on column core.transactions.description is 'Product description, trimmed; null when empty.';
comment on column core.transactions.quantity is 'Units on the line (integer); negative on cancellations.';
comment on column core.transactions.invoice_date is 'Invoice date and time, as written in the source (timestamp without time zone).';
comment on column core.transactions.unit_price is 'Price of one unit (exact numeric, never float).';
comment on column core.transactions.customer_id is 'Customer number (17850.0 in the source means 17850); null for a guest.';
comment on column core.transactions.country is 'Country of the customer; null when empty.';
comment on column core.transactions.line_amount is 'quantity × unit_price (exact numeric, unrounded).';
comment on column core.transactions.line_kind is 'The first rule that applies: cancellation (invoice_no starts with C), adjustment (starts with A, or quantity <= 0, or unit_price <= 0), fee (postage, bank charges, gift vouchers and the like), else sale.';

comment on table core.quarantine is 'Staged rows the transform could not parse, with the first reason that applies and their staged text values kept verbatim for inspection.';
comment on column core.quarantine.load_id is 'The load (meta.loads) the row came from.';
comment on column core.quarantine.line_no is 'The line of that load on which the record starts.';
comment on column core.quarantine.invoice_no is 'Invoice number as staged (text, untrimmed).';
comment on column core.quarantine.stock_code is 'Product code as staged (text, untrimmed).';
comment on column core.quarantine.description is 'Product description as staged (text, untrimmed).';
comment on column core.quarantine.quantity is 'Quantity as staged (text, untrimmed).';
comment on column core.quarantine.invoice_date is 'Invoice date as staged (text, untrimmed).';
comment on column core.quarantine.unit_price is 'Unit price as staged (text, untrimmed).';
comment on column core.quarantine.customer_id is 'Customer number as staged (text, untrimmed).';
comment on column core.quarantine.country is 'Country as staged (text, untrimmed).';
comment on column core.quarantine.reason is 'The first rule the row breaks, in this order: missing_invoice_no, missing_stock_code, bad_quantity (not an integer fitting int4), bad_unit_price (not a decimal number), bad_invoice_date (not a valid date in an accepted format), bad_customer_id (not digits, optionally followed by .0).';

-- Down Migration
comment on table meta.loads is null;
comment on column meta.loads.load_id is null;
comment on column meta.loads.source is null;
comment on column meta.loads.sha256 is null;
comment on column meta.loads.byte_size is null;
comment on column meta.loads.rows_read is null;
comment on column meta.loads.rows_staged is null;
comment on column meta.loads.rows_rejected is null;
comment on column meta.loads.status is null;
comment on column meta.loads.started_at is null;
comment on column meta.loads.finished_at is null;
comment on column meta.loads.error is null;
comment on table staging.transactions is null;
comment on column staging.transactions.load_id is null;
comment on column staging.transactions.line_no is null;
comment on column staging.transactions.invoice_no is null;
comment on column staging.transactions.stock_code is null;
comment on column staging.transactions.description is null;
comment on column staging.transactions.quantity is null;
comment on column staging.transactions.invoice_date is null;
comment on column staging.transactions.unit_price is null;
comment on column staging.transactions.customer_id is null;
comment on column staging.transactions.country is null;
comment on table staging.load_rejects is null;
comment on column staging.load_rejects.load_id is null;
comment on column staging.load_rejects.line_no is null;
comment on column staging.load_rejects.raw is null;
comment on column staging.load_rejects.reason is null;
comment on table core.transactions is null;
comment on column core.transactions.load_id is null;
comment on column core.transactions.line_no is null;
comment on column core.transactions.invoice_no is null;
comment on column core.transactions.stock_code is null;
comment on column core.transactions.description is null;
comment on column core.transactions.quantity is null;
comment on column core.transactions.invoice_date is null;
comment on column core.transactions.unit_price is null;
comment on column core.transactions.customer_id is null;
comment on column core.transactions.country is null;
comment on column core.transactions.line_amount is null;
comment on column core.transactions.line_kind is null;
comment on table core.quarantine is null;
comment on column core.quarantine.load_id is null;
comment on column core.quarantine.line_no is null;
comment on column core.quarantine.invoice_no is null;
comment on column core.quarantine.stock_code is null;
comment on column core.quarantine.description is null;
comment on column core.quarantine.quantity is null;
comment on column core.quarantine.invoice_date is null;
comment on column core.quarantine.unit_price is null;
comment on column core.quarantine.customer_id is null;
comment on column core.quarantine.country is null;
comment on column core.quarantine.reason is null;
