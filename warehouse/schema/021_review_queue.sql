-- low-confidence demand items waiting for a person's label; corrected rows are training data.
-- One row per item version (content_hash): a correction stays attached to the text it judged.
create table if not exists review_queue (
    item_id       varchar not null,
    content_hash  varchar not null,
    text          varchar not null,     -- masked, as classified
    predicted     varchar not null,
    confidence    double not null,
    top3          varchar not null,     -- json [[category, probability], ...]
    model_version varchar not null,
    queued_at     timestamp not null,
    status        varchar not null default 'open',  -- open | corrected
    label         varchar,              -- the reviewer's category
    reviewed_at   timestamp,
    primary key (item_id, content_hash)
);
