-- every channel normalised to one row per resident utterance
create table if not exists feedback (
    feedback_id   varchar primary key,  -- channel:natural key
    channel       varchar not null,
    received_at   timestamp not null,
    week          varchar not null,     -- iso week, e.g. 2026-W47
    community     varchar not null,
    text          varchar not null,     -- masked
    content_hash  varchar not null,
    source_file   varchar not null,
    source_pos    varchar not null,
    ingested_at   timestamp not null
);

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
