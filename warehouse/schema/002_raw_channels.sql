-- raw tables, one per channel. free text is masked before it lands here; contact fields go
-- to the pii schema. every row keeps its source file and position.
-- the bulk tables carry no primary key: index upkeep tripled load time, and the loader
-- keeps one row per key itself (checks/duplicate_keys.sql proves it).
create table if not exists raw_hotline (
    order_id      varchar not null,
    received_at   timestamp not null,
    community     varchar not null,
    text          varchar not null,
    content_hash  varchar not null,
    source_file   varchar not null,
    source_pos    varchar not null,
    ingested_at   timestamp not null
);

create table if not exists raw_platform (
    message_id    varchar not null,
    received_at   timestamp not null,
    community     varchar not null,
    user_hash     varchar,
    title         varchar,
    text          varchar not null,
    content_hash  varchar not null,
    source_file   varchar not null,
    source_pos    varchar not null,
    ingested_at   timestamp not null
);

create table if not exists raw_meeting (
    item_key      varchar not null,  -- file sha256 prefix + character span
    file_sha256   varchar not null,
    meeting_date  date not null,
    received_at   timestamp not null,
    community     varchar not null,
    group_name    varchar,
    item_no       integer not null,
    span_start    integer not null,
    span_end      integer not null,
    text          varchar not null,
    content_hash  varchar not null,
    source_file   varchar not null,
    source_pos    varchar not null,
    ingested_at   timestamp not null
);

create table if not exists raw_survey (
    response_id   varchar not null,
    received_at   timestamp not null,
    respondent_type varchar not null,
    community     varchar not null,
    open_answer   varchar,
    content_hash  varchar not null,
    source_file   varchar not null,
    source_pos    varchar not null,
    ingested_at   timestamp not null
);

-- one row per likert answer of a valid questionnaire
create table if not exists survey_answers (
    response_id   varchar not null,
    item_code     varchar not null,
    item_name     varchar not null,
    answer        varchar,
    polarity      smallint,  -- 1 positive, 0 neutral, -1 negative, null blank
    primary key (response_id, item_code)
);
