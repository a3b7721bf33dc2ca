-- the most frequent keywords of each category in one week (param: week)
with words as (
    select category, unnest(keywords) as keyword
    from demand_items
    where week = $week
),

counted as (
    select category, keyword, count(*) as n,
           row_number() over (partition by category order by count(*) desc, keyword) as rank
    from words
    group by all
)

select category, string_agg(keyword || '(' || n || ')', ' ' order by rank) as keywords
from counted
where rank <= 5
group by category
order by category
