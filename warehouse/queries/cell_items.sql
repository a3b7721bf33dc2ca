-- the masked demand items behind one gap cell, unmet first: text, channel, time, category and confidence, status and the reason unmet (params: week, community, category)
select
    d.item_id,
    strftime(d.received_at, '%Y-%m-%d %H:%M') as received_at,
    d.channel,
    d.text,
    d.category,
    round(d.confidence, 3) as confidence,
    coalesce(m.status, 'not matched yet') as status,
    m.reason,
    m.service_id
from demand_items as d
left join matches as m using (item_id)
where d.week = $week
  and d.community = $community
  and d.category = $category
order by m.status = 'unmet' desc, d.received_at, d.item_id
limit 1000
