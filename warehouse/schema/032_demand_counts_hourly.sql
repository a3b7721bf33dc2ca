-- demand items per community x category in fixed 1-hour windows of received time. panes
-- accumulate: a later firing (early, on time, late) replaces the row, it is never added to
create table if not exists demand_counts_hourly (
    window_start  timestamp not null,
    window_end    timestamp not null,
    community     varchar not null,
    category      varchar not null,
    items         bigint not null,
    timing        varchar not null,     -- of the last firing: early | on_time | late
    pane_index    bigint not null,      -- firings so far, from 0
    updated_at    timestamp not null,
    primary key (window_start, community, category)
);
