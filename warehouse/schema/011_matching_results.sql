-- per week: the solve, each community's fairness standing, and the value of more capacity
create table if not exists match_runs (
    week            varchar primary key,
    solver          varchar not null,     -- min_cost_flow | greedy
    items           integer not null,
    matched         integer not null,
    unmet           integer not null,
    match_cost      double not null,
    unmet_cost      double not null,
    objective       double not null,
    excess_items    integer not null,     -- unmet items above their community's fairness target
    fairness_margin double,
    groups          integer not null,
    seconds         double not null,
    matched_at      timestamp not null
);

-- unmet share among the items some service could take, per community and week
create table if not exists match_fairness (
    week            varchar not null,
    community       varchar not null,
    servable        integer not null,
    unmet           integer not null,
    unmet_share     double not null,
    district_share  double not null,
    margin          double,
    exceeds         boolean not null,
    why             varchar,
    primary key (week, community)
);

-- what one more unit of a service's capacity would save in the week's objective, how many
-- unmet items it could take, and the community x category it would serve first
create table if not exists capacity_values (
    week            varchar not null,
    service_id      varchar not null,
    value           double not null,
    waiting         integer not null,     -- unmet items the service could take
    community       varchar,
    category        varchar,
    primary key (week, service_id)
);
