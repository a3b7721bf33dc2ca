-- one issue's demand items, masked, in time order, with their channel, community, category and place (param: id)
select d.received_at, d.channel, d.community, d.category, d.place, d.item_id, d.text
from issue_membership as m
join demand_items as d using (item_id)
where m.issue_id = $id
order by d.received_at, d.item_id
