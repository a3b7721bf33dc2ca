-- where the records happened: per channel, the processed records whose export named their
-- community, those the text stage placed from the text (the gazetteer), and those nobody
-- could place (community 'unknown', counted district-wide). param: week (null: every week)
with records as (
    select
        f.channel,
        f.feedback_id,
        f.community <> 'unknown' as from_export,
        bool_or(d.community <> 'unknown') as placed
    from feedback as f
    inner join demand_items as d using (feedback_id)
    where cast($week as varchar) is null or f.week = $week
    group by all
)

select
    channel,
    count(*) as records,
    count(*) filter (where from_export) as from_export,
    count(*) filter (where not from_export and placed) as from_text,
    count(*) filter (where not placed) as unplaced,
    round(count(*) filter (where not placed) / count(*), 4) as unplaced_share
from records
group by channel
order by channel
