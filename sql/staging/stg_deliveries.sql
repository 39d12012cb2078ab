-- materialized: view
-- staging.stg_deliveries: one row per file now in DIR/raw, with the first copy of each delivery marked.
-- A delivery (file_id) is a content in its place: its kind of folder and its municipality (the same bytes in
-- two municipalities' folders are two deliveries, METHODS 1). Delivered under several names in one place, it is
-- loaded once: its first copy (the earliest, then by name) names it everywhere; a later copy adds nothing and
-- its rows count as duplicates.
with final as (
    select
        source_file, file_id, kind, folder, folder_kommunekode, delivered_at,
        row_number() over first_delivery = 1 as is_first_copy,
        first_value(source_file) over first_delivery as first_source_file
    from ingest.deliveries
    window first_delivery as (partition by file_id order by delivered_at, source_file)
)

select * from final
