-- one row per classified demand item (a feedback row may hold several)
create table if not exists demand_items (
    item_id       varchar primary key,  -- feedback_id#n
    feedback_id   varchar not null,
    channel       varchar not null,
    received_at   timestamp not null,
    week          varchar not null,
    community     varchar not null,
    text          varchar not null,
    tokens        varchar not null,
    keywords      varchar[],
    category      varchar not null,
    confidence    double not null,
    top3          varchar not null,     -- json [[category, probability], ...]
    embedding     float[],
    content_hash  varchar not null,
    model_version varchar not null,
    processed_at  timestamp not null
);
