-- validate a staged hotline export (_staged: order_id, received_at, community, caller_phone,
-- text, _row, all varchar but _row): one row out per row in, in the same order (no join, no
-- aggregate), reason null when it is good.
-- times are asia/shanghai wall time: configured formats, then the fallback formats of
-- minsheng/channels/times.py (date-only, chinese, compact), then iso (with an offset:
-- converted), then excel serial dates.
-- personal data in the text is masked here (macros in pii_macros.sql), in the order of
-- minsheng.pii.mask: e-mail, addresses, numbers. sql masks the common shapes itself; a text
-- it cannot mask exactly comes out as read with pii_hard set, and python masks it: an e-mail,
-- a digit that is not ascii, a cue of the kinds only python masks (pii.HARD: names, plates,
-- qq and wechat ids, rooms, chinese numerals, characters nfkc changes, dates, amounts), more than one house number, a unit outside the house number's
-- span, a newline before a road, a number run with letters, a + or over 24 characters, or
-- one that is not one number but may hold one (two numbers one space apart).
-- a rejected row keeps its text as read (its payload is masked as a whole in python), and so
-- does a row whose text may be mojibake (raw_text), which is judged on the text as read.
-- a case, not and/or, guards each costly test: duckdb evaluates both sides of an and or an
-- or in a select list on every row.
with src as (
    select
        _row,
        pii_trim(coalesce(order_id, '')) as order_id,
        pii_trim(coalesce(received_at, '')) as received_raw,
        pii_trim(coalesce(community, '')) as community_raw,
        pii_trim(coalesce(caller_phone, '')) as caller_phone,
        pii_trim(coalesce(text, '')) as text
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
                try_strptime(received_raw, $fallback_formats),
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

-- a lookup, not a join: the rows keep the order they were read in
joined as (
    select
        *,
        coalesce($community_codes[list_position($community_names, community_raw)],
                 $community_codes[list_position($community_names, lower(community_raw))]) as community
    from timed
),

-- one pass of re2 over every text for both prefilters; each is tried alone on the few
-- texts that match either
gate as (
    select *, regexp_matches(text, $pii_or_mojibake) as maybe_either
    from joined
),

flagged as (
    select
        *,
        case when maybe_either then regexp_matches(text, $pii_prefilter) else false end as maybe_pii,
        case when maybe_either then regexp_matches(text, $mojibake_hint) else false end as maybe_mojibake,
        case
            when order_id = '' then 'missing_key'
            when community is null then 'unknown_community'
            -- a time outside years 1-9999 in shanghai is no time (python cannot hold it either)
            when received_at is null or year(received_at) not between 1 and 9999 then 'bad_time'
            when received_at < $earliest or received_at > $latest then 'implausible_time'
            when text = '' then 'empty_text'
            when length(text) > $max_chars then 'text_too_long'
        end as reason
    from gate
),

-- houses: how many house numbers (pii._HOUSE) the text holds, null when it has no anchor
odd as (
    select
        *,
        case
            when maybe_pii and reason is null
                then contains(text, '@') or regexp_matches(text, '[^\P{Nd}0-9]')
                     or regexp_matches(text, $pii_hard_cue)
            else false
        end as pii_odd,
        case
            when maybe_pii and reason is null and (contains(text, '号') or contains(text, '单元'))
                then len(regexp_extract_all(text, $house))
        end as houses
    from flagged
),

-- one house number is masked from the start of its road name (up to 8 han characters before
-- the road suffix, as pii._ROAD_NAME), units (pii._UNIT) only where there is no house number
addresses as (
    select
        *,
        case
            when pii_odd or houses is null then text
            when houses = 0 then regexp_replace(text, $unit, '[地址]', 'g')
            when houses = 1 then regexp_replace(text, $road_house, '[地址]')
        end as t_addr
    from odd
),

-- the text cut into the maximal runs of letters, digits and + joined by spaces or hyphens,
-- and the stretches between them: a match of pii._DIGITS never crosses the end of a run (its
-- neighbours are no letter or digit), so each run is masked on its own (pii_mask_run: null
-- when python must mask the text)
runs as (
    select
        *,
        case
            when pii_odd or houses > 1 then true
            when houses = 1
                then contains(text, chr(10)) or regexp_matches(t_addr, $unit)
                     or regexp_matches(text, $before_road_house)
            else false
        end as addr_hard,
        case
            when maybe_pii and reason is null and not pii_odd then
                case
                    -- no run of 7 digits, spaces or hyphens: pii._DIGITS has nothing to match
                    when regexp_matches(t_addr, '[0-9][0-9 -]{5,}[0-9]')
                        then list_transform(regexp_extract_all(t_addr, $number_run || '|[^0-9A-Za-z+]+'),
                                            lambda piece: pii_mask_run(piece))
                end
        end as pieces
    from addresses
),

masked as (
    select
        *,
        addr_hard or coalesce(list_aggregate(pieces, 'count') < len(pieces), false) as pii_hard
    from runs
),

rebuilt as (
    select
        *,
        case
            when pii_hard or not maybe_pii or reason is not null then text
            when pieces is null then t_addr
            else array_to_string(pieces, '')
        end as text_masked
    from masked
)

select
    _row,
    order_id,
    received_at,
    community,
    caller_phone,
    text_masked as text,
    case when maybe_mojibake then case when text_masked <> text then text end end as raw_text,
    maybe_pii and pii_hard as pii_hard,
    maybe_mojibake,
    reason,
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
from rebuilt
