-- the supply registry: providers, their services, service areas, and weekly capacity
create table if not exists providers (
    provider_id   varchar primary key,
    name          varchar not null,
    kind          varchar not null      -- centre | base | ngo | mutual_aid
);

create table if not exists services (
    service_id    varchar primary key,
    provider_id   varchar not null,
    name          varchar not null,
    unit          varchar not null,
    eligibility   varchar not null      -- json
);

create table if not exists service_categories (
    service_id    varchar not null,
    category      varchar not null,
    fit           varchar not null,     -- primary | secondary
    primary key (service_id, category)
);

create table if not exists service_areas (
    service_id    varchar not null,
    community     varchar not null,
    primary key (service_id, community)
);

-- dated capacity: each week keeps its own figure
create table if not exists capacity (
    service_id    varchar not null,
    week          varchar not null,
    capacity      integer not null check (capacity >= 0),
    primary key (service_id, week)
);
