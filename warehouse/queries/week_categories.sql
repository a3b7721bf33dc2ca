-- demand, matched and unmet per category in one week, with the previous week's demand (param: week)
with this_week as (
    select category, sum(demand) as demand, sum(matched) as matched, sum(unmet) as unmet
    from gap_weekly
    where week = $week
    group by category
),

previous as (
    select category, sum(demand) as demand
    from gap_weekly
    where week = (select max(week) from demand_items where week < $week)
    group by category
)

select
    t.category,
    c.name,
    t.demand,
    coalesce(p.demand, 0) as previous_demand,
    t.matched,
    t.unmet
from this_week as t
join categories as c using (category)
left join previous as p using (category)
where t.demand > 0
order by t.demand desc, t.category
