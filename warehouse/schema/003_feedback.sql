-- every channel normalised to one row per resident utterance: a view over the raw tables,
-- so that each text is stored once (a survey row is feedback only if it has an open answer)
create or replace view feedback as
with normalised as (
    select 'hotline' as channel, order_id as record_key, received_at, community, text,
           content_hash, source_file, source_pos, ingested_at
    from raw_hotline
    union all
    select 'platform', message_id, received_at, community, text,
           content_hash, source_file, source_pos, ingested_at
    from raw_platform
    union all
    select 'meeting', item_key, received_at, community, text,
           content_hash, source_file, source_pos, ingested_at
    from raw_meeting
    union all
    select 'survey', response_id, received_at, community, open_answer,
           content_hash, source_file, source_pos, ingested_at
    from raw_survey
    where open_answer is not null
)

select
    channel || ':' || record_key as feedback_id,
    channel,
    received_at,
    strftime(received_at, '%G-W%V') as week,
    community,
    text,
    content_hash,
    source_file,
    source_pos,
    ingested_at
from normalised;

create table if not exists quarantine (
    quarantine_id varchar primary key,  -- hash of channel, file, position, reason: re-runs add nothing
    channel       varchar not null,
    source_file   varchar not null,
    source_pos    varchar not null,
    reason        varchar not null,
    message       varchar not null,
    raw_payload   varchar,              -- masked
    first_seen    timestamp not null,
    record_id     varchar,              -- feedback_id, for rows the text stage rejected
    content_hash  varchar               -- of that feedback version: a correction is tried again
);
