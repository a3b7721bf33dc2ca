-- demand items that matching has not decided
select d.item_id, d.week
from demand_items as d
left join matches as m using (item_id)
where m.item_id is null
