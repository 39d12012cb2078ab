-- Grain: one row per copy of an invoice or credit-note document, i.e. per
-- (kommunekode, supplier_cvr, document_type, document_number, issue_date) x delivered file (file_id).
-- The one pass over the staged invoice lines that every later table works from (METHODS 1: a document is
-- identified by its key, and the same document may be delivered in several files). It carries what the
-- document needs from its lines (year, supplier CVR list, lowest order number, credited number) and the copy's
-- line totals per scope class (METHODS 2: goods / not_goods / unclassified, sql/macros.sql
-- scope_class), so that no later table reads the lines again.
-- line_ids_distinct: true when the copy's line_ids are provably all different (the integers 1-64, as many
-- distinct bits as lines). Only a copy where it is false can repeat a line_id (METHODS 1: counted once); its
-- totals are recounted over its kept lines (int_invoice_special_lines, int_invoice_documents).
-- document_hash: hash() of the document key; copies of a document share it (int_invoice_copy_ranks).
-- copy_number: the copy's file number (its file_id's rank) x 2^32 + its first record_number in the file (record
-- numbers are unique within a file): unique per copy, and the same in every run over the same files.
with arts as (
    select art, varekoeb from reference.kontoplan_arter
),

segments as (
    select segment, varekoeb from reference.unspsc_segmenter
),

-- what is constant per delivered file, taken per file rather than per copy
files as (
    select
        file_id,
        any_value(source_format) as source_format,
        row_number() over (order by file_id) as file_number
    from staging.stg_invoice_lines
    group by file_id
),

invoice_lines as (
    select
        lines.file_id,
        lines.record_number,
        lines.kommunekode,
        lines.supplier_cvr,
        lines.document_type,
        lines.document_number,
        lines.issue_date,
        lines.year,
        lines.supplier_cvrs,
        lines.order_number_norm,
        lines.credited_document_number,
        try_cast(lines.line_id as integer) as line_number,
        lines.amount_kr,
        scope_class(arts.art is not null, arts.varekoeb, segments.varekoeb) as scope_class  -- METHODS 2
    from staging.stg_invoice_lines as lines
    left join arts on lines.art = arts.art
    left join segments on lines.unspsc_segment = segments.segment
),

copy_totals as (
    select
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date,
        file_id,
        year,
        count(*) as line_rows,
        min(record_number) as first_record,
        any_value(supplier_cvrs) as listed_cvrs,  -- the supplier party's CVR list (XML); null for CSV
        min(order_number_norm) as order_number_norm,
        min(credited_document_number) as credited_document_number,
        -- as many distinct bits as lines: every line_id is one of 1-64 and no two are the same
        coalesce(
            bit_count(bit_or(case when line_number between 1 and 64 then 1::ubigint << (line_number - 1) end))
                = count(*),
            false
        ) as line_ids_distinct,
        sum(amount_kr) as total_kr,
        count(*) filter (where scope_class = 'goods') as goods_lines,
        coalesce(sum(amount_kr) filter (where scope_class = 'goods'), 0) as goods_spend_kr,
        count(*) filter (where scope_class = 'not_goods') as not_goods_lines,
        count(*) filter (where scope_class = 'unclassified') as unclassified_lines,
        coalesce(sum(amount_kr) filter (where scope_class = 'unclassified'), 0) as unclassified_spend_kr
    from invoice_lines
    -- year is year(issue_date): a key only so that it needs no aggregate
    group by kommunekode, supplier_cvr, document_type, document_number, issue_date, file_id, year
),

final as (
    select
        -- the copy's number: its file's number (files in file_id order) and its first record in the file
        files.file_number * 4294967296 + copy_totals.first_record as copy_number,
        hash(copy_totals.kommunekode, copy_totals.supplier_cvr, copy_totals.document_type,
            copy_totals.document_number, copy_totals.issue_date) as document_hash,
        copy_totals.kommunekode,
        copy_totals.supplier_cvr,
        copy_totals.document_type,
        copy_totals.document_number,
        copy_totals.issue_date,
        copy_totals.year,
        copy_totals.file_id,
        files.source_format,
        copy_totals.line_rows,
        -- every CVR the supplier party names, the primary one included (METHODS 5: a CVR in common)
        party_cvrs(copy_totals.supplier_cvr, copy_totals.listed_cvrs) as supplier_cvrs,
        copy_totals.order_number_norm,
        copy_totals.credited_document_number,
        copy_totals.line_ids_distinct,
        cast(copy_totals.total_kr as decimal(18, 2)) as total_kr,
        copy_totals.goods_lines,
        cast(copy_totals.goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        copy_totals.not_goods_lines,
        copy_totals.unclassified_lines,
        cast(copy_totals.unclassified_spend_kr as decimal(18, 2)) as unclassified_spend_kr
    from copy_totals
    inner join files on copy_totals.file_id = files.file_id
)

select * from final

