-- feedback rows that processing has neither turned into demand items nor dead-lettered
select f.feedback_id
from feedback as f
left join demand_items as d using (feedback_id)
where d.feedback_id is null
  and not exists (
      select 1 from quarantine as q
      where q.record_id = f.feedback_id and q.content_hash = f.content_hash
  )
