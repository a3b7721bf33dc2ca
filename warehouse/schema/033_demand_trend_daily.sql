-- demand items per community x category in 7-day windows of received time sliding by a day,
-- for trend sensing. panes accumulate: a later firing replaces the row
create table if not exists demand_trend_daily (
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
