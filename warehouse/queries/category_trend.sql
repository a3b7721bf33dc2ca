-- demand items per week and category over the last $weeks weeks with data up to $week (params: week, weeks)
-- read from the gap table (a table in the snapshot) rather than demand_items: the same counts
-- without a scan of every item
with span as (
    select distinct week
    from gap_weekly
    where week <= $week and demand > 0
    order by week desc
    limit $weeks::integer
)

select g.week, g.category, sum(g.demand)::bigint as demand
from gap_weekly as g
join span using (week)
where g.demand > 0
group by all
order by g.week, demand desc, g.category
