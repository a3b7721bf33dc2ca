-- scalar macros for masking personal data in sql (validate_hotline.sql), on the validating
-- connection. they mirror minsheng/pii.py (_classify_digits, is_valid_id_number, luhn_ok) for
-- the numbers that sql masks itself; tests/test_pii_sql.py proves the texts come out the same.

-- gb 11643: 18 characters, 17 digits not starting with 0, and the check character
create or replace temp macro pii_id_valid(v) as
    length(v) = 18
    and regexp_full_match(v[1:17], '[0-9]{17}')
    and v[1] <> '0'
    and substr('10X98765432', (1 + list_sum(list_transform(range(17),
            lambda i: v[i + 1]::int * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i + 1])) % 11)::bigint, 1)
        = upper(v[18]);

-- luhn over a string of ascii digits
create or replace temp macro pii_luhn_ok(d) as
    list_sum(list_transform(range(length(d)), lambda i:
        case
            when i % 2 = 0 then d[length(d) - i]::int
            when d[length(d) - i]::int > 4 then d[length(d) - i]::int * 2 - 9
            else d[length(d) - i]::int * 2
        end)) % 10 = 0;

-- the digits (and x) of a number, without a +86 country code
create or replace temp macro pii_number_digits(raw) as
    list_transform([regexp_replace(raw, '[^0-9Xx]', '', 'g')],
                   lambda d: case when length(d) = 13 and starts_with(d, '86') then d[3:] else d end)[1];

-- the placeholder for a number (raw: as written, d: pii_number_digits(raw)), null to keep it
create or replace temp macro pii_number_placeholder(raw, d) as
    case
        when length(d) = 18 and pii_id_valid(d) then '[身份证号]'
        when length(d) = 11 and d[1] = '1' and contains('3456789', d[2]) then '[手机号]'
        when d[1] = '0' and length(d) between 10 and 12 then '[电话]'
        when length(d) in (7, 8) and contains('2345678', trim(raw)[1]) then '[电话]'
        when length(d) between 15 and 19 and regexp_full_match(d, '[0-9]+') and pii_luhn_ok(d)
            then '[银行卡号]'
        when length(d) = 18 then '[身份证号]'
    end;

-- a run of number-like characters as masked: a plain number (digit groups split by spaces or
-- hyphens, perhaps a final x) of 7 to 24 characters is one match of pii._DIGITS as a whole.
-- (the one-element list binds the digits once: a macro argument is re-evaluated at each use)
create or replace temp macro pii_mask_run(tok) as
    case
        when length(rtrim(tok, 'Xx')) between 7 and 24
             and regexp_full_match(tok, '[0-9]+(?:[ -]+[0-9]+)*[Xx]?')
            then coalesce(list_transform([pii_number_digits(tok)],
                                         lambda d: pii_number_placeholder(tok, d))[1], tok)
        else tok
    end;

-- true when sql cannot mask a run exactly: it holds a digit but is not a plain number of at
-- most 24 characters (letters, a +, longer digit sequences): python masks such a text
create or replace temp macro pii_run_is_hard(tok) as
    regexp_matches(tok, '[0-9]')
    and not (length(rtrim(tok, 'Xx')) <= 24 and regexp_full_match(tok, '[0-9]+(?:[ -]+[0-9]+)*[Xx]?'));
