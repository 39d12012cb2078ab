-- Grain: one row per delivered record (invoice or order line) that METHODS 1 drops as a duplicate:
-- (extract_kind, file_id, record_number). Together with the staging tables and the quarantine it lets
-- every file reconcile: rows read = rows accepted + rows quarantined + duplicates.
-- Two reasons: the record belongs to a copy of a document that another copy replaces (superseded_copy),
-- or it repeats a line_id already kept from the same file (repeated_line).
with invoice_copies as (
    select * from intermediate.int_invoice_document_copies
),

order_copies as (
    select * from intermediate.int_order_document_copies
),

superseded_invoice_lines as (
    select
        'invoice' as extract_kind,
        invoice_lines.file_id,
        invoice_lines.record_number,
        invoice_lines.source_file,
        invoice_lines.kommunekode,
        invoice_lines.document_number,
        invoice_lines.line_id,
        'superseded_copy' as reason,
        invoice_copies.winning_file_id as kept_file_id,
        invoice_copies.winning_source_file as kept_source_file
    from staging.stg_invoice_lines as invoice_lines
    inner join invoice_copies
        on invoice_lines.file_id = invoice_copies.file_id
        and invoice_lines.kommunekode = invoice_copies.kommunekode
        and invoice_lines.supplier_cvr is not distinct from invoice_copies.supplier_cvr
        and invoice_lines.document_type = invoice_copies.document_type
        and invoice_lines.document_number = invoice_copies.document_number
        and invoice_lines.issue_date = invoice_copies.issue_date
    where not invoice_copies.is_winning_copy
),

-- the kept first record of every line_id repeated in a winning copy, with its document's key (materialized:
-- a few rows, joined to the staged lines only once they are known)
repeated_invoice_line_keys as materialized (
    select
        kept_lines.file_id,
        kept_lines.record_number,
        kept_lines.line_id,
        invoice_copies.source_file,
        invoice_copies.kommunekode,
        invoice_copies.supplier_cvr,
        invoice_copies.document_type,
        invoice_copies.document_number,
        invoice_copies.issue_date
    from intermediate.int_invoice_lines as kept_lines
    inner join invoice_copies
        on kept_lines.document_id = invoice_copies.document_id
        and invoice_copies.is_winning_copy
    where kept_lines.line_copies > 1
),

repeated_invoice_lines as (
    select
        'invoice' as extract_kind,
        invoice_lines.file_id,
        invoice_lines.record_number,
        invoice_lines.source_file,
        invoice_lines.kommunekode,
        invoice_lines.document_number,
        invoice_lines.line_id,
        'repeated_line' as reason,
        kept.file_id as kept_file_id,
        kept.source_file as kept_source_file
    from staging.stg_invoice_lines as invoice_lines
    inner join repeated_invoice_line_keys as kept
        on invoice_lines.file_id = kept.file_id
        and invoice_lines.kommunekode = kept.kommunekode
        and invoice_lines.supplier_cvr is not distinct from kept.supplier_cvr
        and invoice_lines.document_type = kept.document_type
        and invoice_lines.document_number = kept.document_number
        and invoice_lines.issue_date = kept.issue_date
        and coalesce(invoice_lines.line_id, '#' || invoice_lines.record_number)
            = coalesce(kept.line_id, '#' || kept.record_number)
    where invoice_lines.record_number <> kept.record_number
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
    select * from superseded_invoice_lines
    union all
    select * from repeated_invoice_lines
    union all
    select * from superseded_order_lines
    union all
    select * from repeated_order_lines
)

select * from final
