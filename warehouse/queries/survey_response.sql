-- questionnaires returned and valid (the issued count comes from configs/district.yaml)
select
    (select count(*) from raw_survey)
    + (select count(*) from quarantine where channel = 'survey') as returned,
    (select count(*) from raw_survey) as valid
