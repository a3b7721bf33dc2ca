-- feedback rows that processing has not turned into demand items
select f.feedback_id
from feedback as f
left join demand_items as d using (feedback_id)
where d.feedback_id is null
