-- what the report can show for one week: its demand items, matched and unmet, and the services of the registry loaded (param: week)
select
    (select count(*) from demand_items where week = $week) as items,
    (select count(*) from matches where week = $week and status = 'matched') as matched,
    (select count(*) from matches where week = $week and status = 'unmet') as unmet,
    (select count(*) from services) as services
