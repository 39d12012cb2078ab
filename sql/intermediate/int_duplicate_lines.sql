-- materialized: incremental by kommunekode
-- Grain: one row per delivered record (invoice or order line) that METHODS 1 drops as a duplicate:
-- (extract_kind, file_id, record_number). Together with the staging tables and the quarantine it lets
-- every file reconcile: rows read = rows accepted + rows quarantined + duplicates.
-- Two reasons: the record belongs to a copy of a document that another copy replaces (superseded_copy),
-- or it repeats a line_id already kept from the same file (repeated_line).
with order_copies as (
    select * from intermediate.int_order_document_copies
),

-- the lines of the copies that need the per-line rule (int_invoice_special_lines): every line of a copy that
-- another copy replaces, and every record after the first of a line_id repeated in the winning copy
invoice_duplicates as (
    select
        'invoice' as extract_kind,
        file_id,
        record_number,
        source_file,
        kommunekode,
        document_number,
        line_id,
        case when is_winning_copy then 'repeated_line' else 'superseded_copy' end as reason,
        case when is_winning_copy then file_id else winning_file_id end as kept_file_id,
        case when is_winning_copy then source_file else winning_source_file end as kept_source_file
    from intermediate.int_invoice_special_lines
    where not is_kept
),

superseded_order_lines as (
    select
        'order' as extract_kind,
        order_lines.file_id,
        order_lines.record_number,
        order_lines.source_file,
        order_lines.kommunekode,
        order_lines.order_number as document_number,
        order_lines.order_line_id as line_id,
        'superseded_copy' as reason,
        order_copies.winning_file_id as kept_file_id,
        order_copies.winning_source_file as kept_source_file
    from staging.stg_order_lines as order_lines
    inner join order_copies
        on order_lines.file_id = order_copies.file_id
        and order_lines.kommunekode = order_copies.kommunekode
        and order_lines.supplier_cvr is not distinct from order_copies.supplier_cvr
        and order_lines.order_number_norm = order_copies.order_number_norm
        and order_lines.order_date = order_copies.order_date
    where not order_copies.is_winning_copy
),

repeated_order_lines as (
    select
        'order' as extract_kind,
        order_lines.file_id,
        order_lines.record_number,
        order_lines.source_file,
        order_lines.kommunekode,
        order_lines.order_number as document_number,
        order_lines.order_line_id as line_id,
        'repeated_line' as reason,
        kept.file_id as kept_file_id,
        kept.source_file as kept_source_file
    from staging.stg_order_lines as order_lines
    inner join (select * from intermediate.int_order_lines where not line_ids_distinct and line_copies > 1) as kept
        on order_lines.file_id = kept.file_id
        and order_lines.kommunekode = kept.kommunekode
        and order_lines.supplier_cvr is not distinct from kept.supplier_cvr
        and order_lines.order_number_norm = kept.order_number_norm
        and order_lines.order_date = kept.order_date
        and coalesce(order_lines.order_line_id, '#' || order_lines.record_number)
            = coalesce(kept.order_line_id, '#' || kept.record_number)
    where order_lines.record_number <> kept.record_number
),

final as (
    select * from invoice_duplicates
    union all
    select * from superseded_order_lines
    union all
    select * from repeated_order_lines
)

select * from final
