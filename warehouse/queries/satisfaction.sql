-- the satisfaction survey: positive / neutral / negative shares of answered items
with answered as (
    select item_code, item_name, polarity
    from survey_answers
    where polarity is not null
)

select
    item_code,
    item_name,
    count(*) as answered,
    round(100.0 * count(*) filter (where polarity = 1) / count(*), 1) as positive_pct,
    round(100.0 * count(*) filter (where polarity = 0) / count(*), 1) as neutral_pct,
    round(100.0 * count(*) filter (where polarity = -1) / count(*), 1) as negative_pct
from answered
group by all
order by item_code
