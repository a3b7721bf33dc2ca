-- hot-issue sensing: every demand item belongs to an issue (a concrete problem at a place),
-- assigned in one streaming pass by the loader (models.issues), with the assigner's state
-- kept per merged part so that a crash and re-run, or a re-run, gives the same issues
create table if not exists issue_items (
    item_id       varchar primary key,
    issue_id      varchar not null,     -- as assigned (issue_membership applies manual decisions)
    opened        boolean not null,     -- the item opened the issue (a first story)
    score         double,               -- closeness it joined with; null when it opened
    part_id       varchar not null      -- the part whose merge assigned it
);

-- one row per issue (after manual decisions): what planners read
create table if not exists issues (
    issue_id      varchar primary key,
    title         varchar not null,     -- from its most central text and keywords (masked)
    place         varchar,              -- the place it is about
    keywords      varchar[],
    communities   varchar[],            -- commonest first
    categories    varchar,              -- json {category: items}: the category mix
    channels      varchar[],
    first_seen    timestamp not null,
    last_seen     timestamp not null,
    items         bigint not null,
    messages      bigint not null,      -- message units: a record's items once, reposts once
    residents     bigint not null,
    likes         bigint not null,
    heat          double not null,      -- at the watermark (README: how heat is counted)
    trend         bigint not null,      -- messages this window minus last
    status        varchar not null,     -- new | growing | steady | fading | dormant
    central_item  varchar,
    updated_at    timestamp not null
);

-- an issue in each week it was live: its items and messages that week, heat at the week's end
create table if not exists issue_weeks (
    issue_id      varchar not null,
    week          varchar not null,
    items         bigint not null,
    messages      bigint not null,
    residents     bigint not null,
    likes         bigint not null,
    heat          double not null,
    status        varchar not null,
    primary key (issue_id, week)
);

create table if not exists issue_state (
    part_id       varchar primary key,
    seq           bigint not null,
    watermark     timestamp,
    state         blob not null,        -- models.issues.IssueAssigner.to_bytes()
    fingerprint   varchar not null
);

-- a planner's merge of two issues or split of items out of one: applied over the assignment
-- on every run, so a manual decision survives re-runs
create table if not exists issue_decisions (
    decision_id   varchar primary key,
    kind          varchar not null,     -- merge | split
    issue_id      varchar not null,     -- merged away, or split from
    into_issue    varchar,              -- merge: the issue it joins; split: the new issue's id
    item_ids      varchar[],            -- split: the items moved out
    reason        varchar,
    decided_by    varchar not null,
    decided_at    timestamp not null
);
