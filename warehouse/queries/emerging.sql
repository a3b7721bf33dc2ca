-- community x category cells whose demand this week is well above their earlier weekly mean (param: week)
with weekly as (
    select week, community, category, count(*) as demand
    from demand_items
    group by all
),

baseline as (
    select community, category, sum(demand) / count(distinct week) as mean_demand, count(*) as weeks_seen
    from weekly
    where week < $week
    group by all
),

earlier_weeks as (
    select count(distinct week) as n from demand_items where week < $week
)

select
    w.community,
    w.category,
    w.demand,
    round(coalesce(b.mean_demand * b.weeks_seen / e.n, 0), 1) as baseline,
    round(w.demand / greatest(coalesce(b.mean_demand * b.weeks_seen / e.n, 0), 1), 2) as ratio
from weekly as w
cross join earlier_weeks as e
left join baseline as b using (community, category)
where w.week = $week
  and e.n > 0
  and w.demand >= 5
  and w.demand >= 2 * greatest(coalesce(b.mean_demand * b.weeks_seen / e.n, 0), 1)
order by ratio desc, w.demand desc, w.community, w.category
