-- feedback rows with neither demand items nor a dead letter for their current content
select f.feedback_id, f.channel, f.received_at, f.week, f.community, f.text,
       f.content_hash, f.source_file, f.source_pos
from feedback as f
where not exists (
    select 1 from demand_items as d
    where d.feedback_id = f.feedback_id and d.content_hash = f.content_hash
)
and not exists (
    select 1 from quarantine as q
    where q.record_id = f.feedback_id and q.content_hash = f.content_hash
)
order by f.feedback_id
