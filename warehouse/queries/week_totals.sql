-- demand items, matched and unmet in one week, with the feedback records behind them (param: week)
select
    count(*) as items,
    count(*) filter (where m.status = 'matched') as matched,
    count(*) filter (where m.status = 'unmet') as unmet,
    round(count(*) filter (where m.status = 'unmet') / greatest(count(*), 1), 4) as unmet_share,
    (select count(*) from feedback where week = $week) as records
from matches as m
where m.week = $week
