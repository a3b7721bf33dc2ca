-- iso week x community x category: demand, nominal capacity, matched, unmet, unmet share.
-- capacity is each service's weekly capacity shared equally among the communities of its
-- area and the categories it serves, so that it adds up across cells.
-- snapshot: table order by week, community, category
create or replace view gap_weekly as
with demand as (
    select
        d.week,
        d.community,
        d.category,
        count(*) as demand,
        count(*) filter (where m.status = 'matched') as matched,
        count(*) filter (where m.status = 'unmet') as unmet
    from demand_items as d
    left join matches as m using (item_id)
    group by all
),

service_share as (
    select
        service_id,
        1.0 / (count(distinct a.community) * count(distinct c.category)) as share
    from service_areas as a
    join service_categories as c using (service_id)
    group by service_id
),

supply as (
    select
        cap.week,
        a.community,
        c.category,
        sum(cap.capacity * s.share) as capacity
    from capacity as cap
    join service_share as s using (service_id)
    join service_areas as a using (service_id)
    join service_categories as c using (service_id)
    where cap.week in (select distinct week from demand_items)
    group by all
)

select
    coalesce(demand.week, supply.week) as week,
    coalesce(demand.community, supply.community) as community,
    coalesce(demand.category, supply.category) as category,
    coalesce(demand.demand, 0) as demand,
    round(coalesce(supply.capacity, 0), 2) as capacity,
    coalesce(demand.matched, 0) as matched,
    coalesce(demand.unmet, 0) as unmet,
    case when coalesce(demand.demand, 0) = 0 then 0.0
         else round(demand.unmet / demand.demand, 4) end as unmet_share
from demand
full outer join supply
    on demand.week = supply.week
    and demand.community = supply.community
    and demand.category = supply.category
