-- materialized: view
-- staging.stg_deliveries: one row per file now in DIR/raw, with the content's first delivery marked.
-- The same bytes delivered under several names are one content (file_id), loaded once: its first delivery names
-- it everywhere; a later copy adds nothing and its rows count as duplicates (METHODS 1). The first is a delivery
-- in the place the content was loaded from (kind of folder and municipality, whose rows it holds), then the
-- earliest, then by name.
with loaded_from as (
    select file_id, case when source_format = 'xml' then 'ubl' else kind end as kind, folder_kommunekode
    from ingest.files
),

ranked as (
    select
        deliveries.source_file,
        deliveries.file_id,
        deliveries.kind,
        deliveries.folder,
        deliveries.folder_kommunekode,
        deliveries.delivered_at,
        coalesce(
            deliveries.kind = loaded_from.kind
                and deliveries.folder_kommunekode is not distinct from loaded_from.folder_kommunekode,
            false
        ) as is_where_loaded
    from ingest.deliveries as deliveries
    left join loaded_from using (file_id)
),

final as (
    select
        source_file, file_id, kind, folder, folder_kommunekode, delivered_at,
        row_number() over first_delivery = 1 as is_first_copy,
        first_value(source_file) over first_delivery as first_source_file,
        first_value(folder_kommunekode) over first_delivery as first_kommunekode
    from ranked
    window first_delivery as (partition by file_id order by is_where_loaded desc, delivered_at, source_file)
)

select * from final
