-- materialized: view
-- staging.stg_files: one row per content (file_id) whose rows are current: loaded, and delivered now (named by
-- its first delivery). stg_invoice_lines and stg_order_lines read these contents' rows; the incremental tables
-- of sql/intermediate are kept current against this list (pipelines/warehouse.py materialise_incremental).
with final as (
    select
        files.file_key,
        files.file_id,
        files.kind,
        files.source_format,
        files.folder_kommunekode as kommunekode,  -- of the folder it was loaded from: its rows' kommunekode
        deliveries.source_file,
        deliveries.delivered_at
    from staging.stg_deliveries as deliveries
    inner join ingest.files as files using (file_id)
    where deliveries.is_first_copy and files.status = 'loaded'
)

select * from final
