-- the stored contents of the windows that a run over $rows touches: items of other feedback
-- within the 7-day trend windows around each touched day and community (weight 1, not
-- touched), and the items being replaced (weight 0, touched: their windows are recounted)
with run as (
    select feedback_id, received_at, community from read_parquet($rows)
),
replaced as (
    select d.item_id, d.received_at, d.community, d.category
    from demand_items as d
    where d.feedback_id in (select feedback_id from run)
),
touched as (
    select distinct date_trunc('day', received_at) as day, community from run
    union
    select distinct date_trunc('day', received_at), community from replaced
),
kept as (
    select distinct d.item_id, d.received_at, d.community, d.category
    from demand_items as d
    join touched as t
      on d.community = t.community
     and d.received_at >= t.day - interval 6 day
     and d.received_at < t.day + interval 7 day
    where d.feedback_id not in (select feedback_id from run)
)
select received_at, community, category, 1::bigint as weight, 0::bigint as touched from kept
union all
select received_at, community, category, 0::bigint, 1::bigint from replaced
