-- earlier versions of corrected records: a record with the same key and new content
-- supersedes the old row, which is kept here
create table if not exists raw_history (
    channel       varchar not null,
    record_key    varchar not null,
    content_hash  varchar not null,
    row_json      varchar not null,     -- the superseded raw row (masked text)
    ingested_at   timestamp not null,
    superseded_at timestamp not null,
    primary key (channel, record_key, content_hash)
);
