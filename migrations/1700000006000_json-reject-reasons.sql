-- Up Migration
-- JSON sources (loader, issue 11; contract §1b): two more reject reasons. `invalid_json`: a JSON Lines
-- line (or a document's array element) that is not valid JSON or not an object; `nested_value`: a record
-- with an object or array as the value of a column.
alter table staging.load_rejects drop constraint load_rejects_reason_check;
alter table staging.load_rejects add constraint load_rejects_reason_check check (reason in (
  'field_count', 'unterminated_quote', 'invalid_utf8', 'nul_byte', 'record_too_large',
  'invalid_json', 'nested_value'));

-- Down Migration
-- rejects of the two JSON reasons cannot be kept under the old check: their loads become failed
-- (their accounting would no longer hold) and their staged rows and rejects go
update meta.loads set status = 'failed', error = 'JSON rejects removed by a down migration'
 where load_id in (select load_id from staging.load_rejects where reason in ('invalid_json', 'nested_value'));
delete from staging.transactions
 where load_id in (select load_id from staging.load_rejects where reason in ('invalid_json', 'nested_value'));
delete from staging.load_rejects
 where load_id in (select load_id from staging.load_rejects where reason in ('invalid_json', 'nested_value'));
alter table staging.load_rejects drop constraint load_rejects_reason_check;
alter table staging.load_rejects add constraint load_rejects_reason_check check (reason in (
  'field_count', 'unterminated_quote', 'invalid_utf8', 'nul_byte', 'record_too_large'));
