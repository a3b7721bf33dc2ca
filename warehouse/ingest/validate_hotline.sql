-- validate a staged hotline export (_staged: order_id, received_at, community, caller_phone,
-- text, _row, all varchar but _row): one row out per row in, reason null when it is good.
-- times are asia/shanghai wall time: configured formats, then chinese, then iso (with an
-- offset: converted), then excel serial dates.
with src as (
    select
        _row,
        trim(coalesce(order_id, '')) as order_id,
        trim(coalesce(received_at, '')) as received_raw,
        trim(coalesce(community, '')) as community_raw,
        trim(coalesce(caller_phone, '')) as caller_phone,
        trim(coalesce(text, '')) as text
    from _staged
),

first_try as (
    select *, try_strptime(received_raw, $formats) as configured
    from src
),

-- case (unlike coalesce) evaluates the fallbacks only on the rows that need them
timed as (
    select
        * exclude (configured),
        case
            when configured is not null then configured
            else coalesce(
                try_strptime(received_raw, [
                    '%Y年%m月%d日 %H时%M分%S秒', '%Y年%m月%d日 %H时%M分', '%Y年%m月%d日%H时%M分',
                    '%Y年%m月%d日 %H:%M:%S', '%Y年%m月%d日 %H:%M', '%Y年%m月%d日'
                ]),
                case when regexp_matches(received_raw, '(Z|[+-]\d{2}:?\d{2})$')
                     then timezone('Asia/Shanghai', try_cast(received_raw as timestamptz)) end,
                try_cast(received_raw as timestamp),
                case when regexp_full_match(received_raw, '\d{5}(\.\d+)?')
                     then timestamp '1899-12-30'
                          + to_seconds(round(received_raw::double * 86400)::bigint) end
            )
        end as received_at
    from first_try
),

joined as (
    select t.*, c.code as community
    from timed as t
    left join _communities as c on c.name = t.community_raw
)

select
    _row,
    order_id,
    received_at,
    community,
    caller_phone,
    text,
    regexp_matches(text, $pii_prefilter) as maybe_pii,
    regexp_matches(text, $mojibake_hint) as maybe_mojibake,
    case
        when order_id = '' then 'missing_key'
        when community is null then 'unknown_community'
        when received_at is null then 'bad_time'
        when received_at < $earliest or received_at > $latest then 'implausible_time'
        when text = '' then 'empty_text'
        when length(text) > $max_chars then 'text_too_long'
    end as reason,
    case
        when order_id = '' then 'empty order id'
        when community is null then 'unknown community ' || community_raw
        when received_at is null then 'unrecognised time ' || received_raw
        when received_at < $earliest or received_at > $latest
            then 'time ' || received_raw || ' is outside the plausible range'
        when text = '' then 'empty transcript'
        when length(text) > $max_chars
            then 'text of ' || length(text) || ' characters (limit ' || $max_chars || ')'
    end as message
from joined
