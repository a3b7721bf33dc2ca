-- the masked demand items behind one gap cell, unmet first: text, channel, time, category and confidence, status and the reason unmet (params: week, community, category)
with items as (
    select item_id, received_at, channel, text, category, confidence
    from demand_items
    where week = $week and community = $community and category = $category
),

cell_matches as (  -- the cell's side of the join only: both scans skip the other weeks
    select item_id, status, reason, service_id
    from matches
    where week = $week and community = $community and category = $category
)

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
from items as d
left join cell_matches as m using (item_id)
order by m.status = 'unmet' desc, d.received_at, d.item_id
limit 1000
