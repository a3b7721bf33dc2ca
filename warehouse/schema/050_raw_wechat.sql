-- the wechat channel (mini-program messages): the openid is in the contacts only; user_hash
-- is its pseudonym, for counting distinct residents
create table if not exists raw_wechat (
    message_key   varchar not null,     -- digest of sender and time (the export has no id)
    received_at   timestamp not null,
    community     varchar not null,
    user_hash     varchar not null,
    text          varchar not null,
    content_hash  varchar not null,
    source_file   varchar not null,
    source_pos    varchar not null,
    ingested_at   timestamp not null
);
