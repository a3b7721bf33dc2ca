-- reference data: communities and the demand taxonomy, reloaded from configs/ on every run
create table if not exists communities (
    community     varchar primary key,
    name          varchar not null,
    registered    integer not null,
    nongzhuanfei  double not null,
    elderly       double not null,
    floating      double not null
);

create table if not exists categories (
    category      varchar primary key,
    name          varchar not null,
    category_group varchar not null,
    served        boolean not null
);
