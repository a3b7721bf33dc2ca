-- the records whose demand items were matched to one service in one week: who to call back
select d.feedback_id as record_id, min(m.community) as community, min(m.category) as category
from matches as m
join demand_items as d using (item_id)
where m.week = $week
  and m.service_id = $service
  and m.status = 'matched'
group by d.feedback_id
order by d.feedback_id
