-- materialized: view
-- staging.stg_deliveries: one row per file now in DIR/raw, with the content's first delivery marked.
-- The same bytes delivered under several names are one content (file_id): its first delivery (earliest, then by
-- name) names it everywhere; a later copy adds nothing and its rows count as duplicates (METHODS 1).
with ranked as (
    select
        source_file,
        file_id,
        kind,
        folder,
        folder_kommunekode,
        delivered_at,
        row_number() over (partition by file_id order by delivered_at, source_file) = 1 as is_first_copy
    from ingest.deliveries
),

final as (
    select
        *,
        first_value(source_file) over (partition by file_id order by delivered_at, source_file) as first_source_file
    from ranked
)

select * from final
