-- week x community x category x reason: unmet demand items, those of a priority class, and
-- their weighted unmet cost. reasons: no_capacity | no_provider | out_of_area | ineligible |
-- unclassified
-- snapshot: table order by week, community, category, reason
create or replace view unmet_reasons as
select
    week,
    community,
    category,
    reason,
    count(*) as items,
    count(*) filter (where priority <> 'normal') as priority_items,
    round(sum(unmet_cost), 2) as unmet_cost
from matches
where status = 'unmet'
group by all
