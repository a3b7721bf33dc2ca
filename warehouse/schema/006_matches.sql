-- one row per demand item and week of matching: matched to a service, or unmet with a reason
create table if not exists matches (
    item_id       varchar primary key,
    week          varchar not null,
    community     varchar not null,
    category      varchar not null,
    status        varchar not null,     -- matched | unmet
    service_id    varchar,
    fit           varchar,
    reason        varchar,              -- for unmet: no_provider | out_of_area | no_capacity | unclassified
    cost          double,
    matched_at    timestamp not null
);
