-- a plain utf-8 hotline export read by duckdb itself, as _staged for validate_hotline.sql
-- (minsheng.tabular's fast path). $types names the file's columns c0, c1, ... in header order
-- and one more, _extra; {fields} picks the mapped ones and {last} is the header's last column.
-- empty fields read as '' (no field can equal $never), so a null last column is a row with
-- too few fields and an _extra that is not null one with a trailing delimiter: such a row
-- fails the query, and arrow reads the file instead (it quarantines ragged rows by position).
-- duckdb reads in parallel unless a quoted field holds a newline ($parallel false).
-- _row is left null: the rows come out in file order, and python numbers them (a window
-- here would hold the whole validating query to one thread).
select
    {fields},
    case when {last} is null or _extra is not null then error('ragged row') end::bigint as _row
from read_csv(
    $path,
    header = true,
    columns = $types,
    auto_detect = false,
    delim = $delim,
    quote = '"',
    escape = '"',
    strict_mode = true,
    null_padding = true,
    nullstr = $never,
    parallel = $parallel
)
