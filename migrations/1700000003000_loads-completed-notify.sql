-- Up Migration
-- Service mode: every load that becomes complete sends NOTIFY loads_completed (payload: its load_id),
-- so `transform --watch` wakes at once. A trigger, not loader code: the notification is sent when the
-- transaction that completes the load commits, and never for a load that rolls back.

create function meta.notify_load_completed() returns trigger
language plpgsql
as $$
begin
  perform pg_notify('loads_completed', new.load_id::text);
  return null;
end
$$;

create trigger loads_completed_notify
  after insert or update of status on meta.loads
  for each row
  when (new.status = 'complete')
  execute function meta.notify_load_completed();

-- Down Migration
drop trigger if exists loads_completed_notify on meta.loads;
drop function if exists meta.notify_load_completed();
