-- the most frequent keywords of each category in one week (param: week)
with words as (
    select category, unnest(keywords) as keyword
    from demand_items
    where week = $week
),

counted as (
    select category, keyword, count(*) as n
    from words
    group by all
),

ranked as (
    select *, row_number() over (partition by category order by n desc, keyword) as rank
    from counted
)

select category, string_agg(keyword || '(' || n || ')', ' ' order by rank) as keywords
from ranked
where rank <= 5
group by category
order by category
